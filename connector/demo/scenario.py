"""The demo's story: four problems of four teams, linked by every path, weighed, mirrored,
resolved, and every customer answered once.

Then a new ticket gets the billing problem suggested (and the agent accepts it), and six alike
tickets of a cause nobody filed become a proposed problem that an admin accepts.

Scaled by `tickets`: after the seven of those two stories, billing gets 40% of them,
documentation 20%, engineering 25%, logistics 15%.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from connector.config import embedded_defaults_text
from connector.demo.stack import LocalStack
from connector.fields import team_option
from connector.sync.signals import known_problem_value

SOLUTION_FIELD, KIND_FIELD = "customfield_10050", "customfield_10051"
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia")
ORGANISATIONS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell")

Say = Callable[[str], None]
# A cause nobody filed: alike tickets from several organisations, proposed as a problem.
EMERGING_TICKETS = (
    "The mobile app closes when I scan a cheque",
    "Mobile app closes every time I scan a cheque",
    "Scanning a cheque closes the mobile app",
    "The app closes when I try to scan a cheque",
    "Cheque scanning closes the mobile app",
    "My mobile app closes when scanning a cheque",
)


def demo_config() -> str:
    data = yaml.safe_load(embedded_defaults_text())
    data["rules"].append(
        {
            "team": "docs",
            "cause": "Setup guide step 4 is wrong",
            "when": {"tags_any": ["setup_guide"]},
        }
    )
    data["jira"].update(solution_field=SOLUTION_FIELD, solution_kind_field=KIND_FIELD)
    data["replies"]["send_workaround"] = True
    data["impact_debounce_seconds"] = 1
    data["mirror_debounce_seconds"] = 0
    data["priority"] = [
        {"min_tickets": 10, "priority": "Highest"},
        {"min_tickets": 5, "priority": "High"},
    ]
    return str(yaml.safe_dump(data, sort_keys=False))


@dataclass
class Story:
    stack: LocalStack
    say: Say
    tickets: int
    customers: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def zendesk(self) -> Any:
        return self.stack.zendesk

    @property
    def jira(self) -> Any:
        return self.stack.jira

    def cf(self, **values: Any) -> list[dict[str, Any]]:
        fields = self.stack.fields
        return [{"id": getattr(fields, k), "value": v} for k, v in values.items()]

    def customer_ticket(self, n: int, subject: str, **fields: Any) -> int:
        requester = self.customers[n % len(self.customers)]
        ticket = self.zendesk.agent_create_ticket(
            subject=subject,
            comment={"body": f"{subject}. Please help."},
            requester_id=requester,
            **fields,
        )
        self.created.append(int(ticket["id"]))
        return int(ticket["id"])

    def settle(self) -> None:
        self.stack.drain(timeout=120)

    def key_of(self, ticket_id: int) -> str:
        field_id = self.stack.fields.jira_issue
        ticket = self.zendesk.ticket(ticket_id)
        return str(next(f["value"] for f in ticket["custom_fields"] if f["id"] == field_id))

    # -- the story ------------------------------------------------------------------------------
    def run(self) -> None:
        rest = self.tickets - len(EMERGING_TICKETS) - 1  # the suggestion's and the proposal's
        billing, docs, product = (
            max(6, rest * 40 // 100),
            max(3, rest * 20 // 100),
            max(3, rest * 25 // 100),
        )
        shipping = max(2, rest - billing - docs - product)
        self.people()
        self.billing(billing)
        self.documentation(docs)
        self.defect(product)
        self.parcels(shipping)
        self.suggestion()
        self.emerging_cause()
        self.workaround()
        self.closed_before_the_fix()
        self.resolve_everything()

    def people(self) -> None:
        orgs = [self.zendesk.create_organization(name)["id"] for name in ORGANISATIONS]
        for n in range(max(12, self.tickets // 3)):
            name = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} Customer{n}"
            user = self.zendesk.create_user(
                name, f"customer{n}@example.com", "end-user", orgs[n % len(orgs)]
            )
            self.customers.append(int(user["id"]))
        self.say(f"{len(self.customers)} customers in {len(orgs)} organisations")

    def billing(self, count: int) -> None:
        problem = self.zendesk.agent_create_ticket(
            subject="Double charge on November invoices",
            comment={"body": "Finance: many customers were charged twice."},
            type="problem",
            custom_fields=self.cf(owning_team=team_option("billing")),
        )
        self.settle()
        key = self.keys["billing"] = self.key_of(int(problem["id"]))
        self.say(f"Agent made ticket #{problem['id']} a Problem owned by Finance -> Jira {key}")
        option = known_problem_value(self._problem_id(key))
        paths = (
            ("incident", {"type": "incident", "problem_id": int(problem["id"])}),
            ("known problem", {"custom_fields": self.cf(known_problem=option)}),
            ("Jira key", {"custom_fields": self.cf(jira_issue=key)}),
        )
        for n in range(count):
            _label, fields = paths[n % len(paths)]
            self.customer_ticket(n, "I was charged twice for November", **fields)
        self.settle()
        self.say(f"{count} billing tickets linked by incident, Known problem and pasted key")

    def documentation(self, count: int) -> None:
        for n in range(count):
            self.customer_ticket(
                n + 100, "Step 4 of the setup guide does not work", tags=["setup_guide"]
            )
        self.settle()
        self.keys["docs"] = self.key_of(self.created[-1])
        self.say(
            f"{count} setup-guide tickets linked by a routing rule -> Jira {self.keys['docs']}"
        )

    def defect(self, count: int) -> None:
        problem = self.zendesk.agent_create_ticket(
            subject="CSV export crashes for large accounts",
            comment={"body": "Engineering: export fails above 10k rows."},
            type="problem",
            custom_fields=self.cf(owning_team=team_option("product")),
        )
        self.settle()
        for n in range(count):
            self.customer_ticket(
                n + 200, "Export crashes", type="incident", problem_id=int(problem["id"])
            )
        self.settle()
        key = self.keys["product"] = self.key_of(int(problem["id"]))
        self.say(f"{count} export tickets are incidents of problem #{problem['id']} -> Jira {key}")

    def parcels(self, count: int) -> None:
        for n in range(count):
            self.customer_ticket(n + 300, "My parcel never arrived", tags=["parcel_lost"])
        self.settle()
        key = self.keys["shipping"] = self.key_of(self.created[-1])
        self.say(f"{count} lost-parcel tickets linked by the default rule -> Jira {key}")

    def suggestion(self) -> None:
        """A new ticket nobody linked: the connector suggests the billing problem; the agent
        accepts by choosing it in Known problem."""
        ticket = self.customer_ticket(7, "Charged twice on my November invoice")
        self.settle()
        key = self.keys["billing"]
        suggested = self._field(ticket, "suggested_problem")
        note = next(
            (c["body"] for c in self.zendesk.comments(ticket) if "looks like" in c["body"]), ""
        )
        found = re.search(r"\((\d+%)\)", note)
        confidence = found.group(1) if found else "?"
        shown = f"{key} ({confidence})" if suggested else "nothing"
        self.say(f"New ticket #{ticket}: the connector suggests {shown} and leaves one note")
        option = known_problem_value(self._problem_id(key))
        self.zendesk.agent_update_ticket(ticket, custom_fields=self.cf(known_problem=option))
        self.settle()
        self.say(f"The agent accepted: ticket #{ticket} is linked to {self.key_of(ticket)}")

    def emerging_cause(self) -> None:
        """Alike tickets of a cause nobody filed become a proposed problem; an admin accepts."""
        from connector.ops.proposals import accept, list_proposals

        for n, text in enumerate(EMERGING_TICKETS):
            self.customer_ticket(n * 2 + 400, text)
        self.settle()
        proposals = list_proposals(self.stack.rt)
        if not proposals:
            self.say("No proposed problem formed (the tickets were not alike enough)")
            return
        proposal = proposals[0]
        team = accept(
            self.stack.rt,
            proposal.id,
            "product",
            "Mobile app closes when scanning a cheque",
            actor="dashboard",
        )
        self.settle()
        key = self.keys["proposal"] = self.key_of(proposal.tickets[0].ticket_id)
        self.say(
            f"{len(proposal.tickets)} alike unlinked tickets from {proposal.organizations} "
            f"organisations became proposal {proposal.id}; an admin accepted it for "
            f"{self.stack.rt.config.teams[team].name} -> Jira {key}"
        )

    def workaround(self) -> None:
        key = self.keys["product"]
        self.jira.human_transition(key, "In Progress")
        self.jira.human_update(
            key,
            **{
                SOLUTION_FIELD: "Export in monthly ranges until the fix ships.",
                KIND_FIELD: "workaround",
            },
        )
        self.settle()
        self.say(f"Engineering started {key} and agreed a workaround: customers got it at once")

    def closed_before_the_fix(self) -> None:
        closed = [t for t in self.created if self._linked_to(t, self.keys["billing"])][:3]
        for ticket_id in closed:
            self.zendesk.agent_update_ticket(ticket_id, status="solved")
            self.zendesk.close_ticket(ticket_id)
        self.settle()
        self.say(f"{len(closed)} billing tickets were solved and closed before the fix")

    def resolve_everything(self) -> None:
        solutions = {
            "billing": "The duplicate charge has been refunded; it shows on your next statement.",
            "docs": "Step 4 of the setup guide is corrected: use the new API key page.",
            "product": "Exports of any size work again since today's release.",
            "shipping": "Parcels held at the Leipzig hub have been re-sent.",
            "proposal": "Cheque scanning works again in app version 5.2.",
        }
        for team, key in self.keys.items():
            kind = "fix" if team != "docs" else "article"
            self.jira.human_update(key, **{SOLUTION_FIELD: solutions[team], KIND_FIELD: kind})
            self.jira.human_transition(
                key, "Done", resolution="Fixed" if team != "docs" else "Done"
            )
        self.settle()
        self.say(f"All {len(self.keys)} Jira issues resolved: every linked customer got one reply")

    def _problem_id(self, key: str) -> int:
        from sqlalchemy import select

        from connector.store.models import Problem

        with self.stack.rt.db.session() as session:
            return int(session.scalars(select(Problem.id).where(Problem.jira_key == key)).one())

    def _field(self, ticket_id: int, key: str) -> object:
        field_id = getattr(self.stack.fields, key)
        ticket = self.zendesk.ticket(ticket_id)
        return next((f["value"] for f in ticket["custom_fields"] if f["id"] == field_id), None)

    def _linked_to(self, ticket_id: int, key: str) -> bool:
        return bool(self.key_of(ticket_id) == key)
