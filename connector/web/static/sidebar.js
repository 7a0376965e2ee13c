/* The sidebar app's page. Talks to Zendesk through the ZAF SDK (ticket, requester, current
   user, inserting text into the reply) and to the connector with the page's bearer session.
   Everything from Jira or customers is put in the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  var token = document.querySelector('meta[name="connector-session"]').content;
  var root = document.getElementById("app");
  var client = window.ZAFClient.init();
  var ticketId = null;
  var who = { requester: null, agent: null };
  var KIND_WORDS = { link: "Linking", move: "Moving", unlink: "Unlinking", create: "Creating the problem" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs.text; }
      else if (name === "onclick") { node.addEventListener("click", attrs.onclick); }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    });
  }

  function show(children) {
    root.textContent = "";
    children.forEach(function (child) { if (child) { root.appendChild(child); } });
    if (who.agent) { root.appendChild(el("footer", { text: "Signed in as " + who.agent })); }
  }

  function message(text, cls) { show([el("p", { id: "status", "class": cls || "muted", text: text })]); }

  function load() {
    api("GET", "/app/api/tickets/" + ticketId).then(function (res) {
      if (res.status === 202) { message("Checking that you can see this ticket…"); setTimeout(load, 600); }
      else if (res.status === 403) { message("You cannot see this ticket, so the connector shows nothing.", "error"); }
      else if (res.status === 401) { message("Your session ended: reopen the ticket.", "error"); }
      else if (res.status !== 200) { message(res.data.error || "The connector could not answer.", "error"); }
      else { render(res.data); }
    }, function () { message("The connector cannot be reached.", "error"); });
  }

  function act(body) {
    return api("POST", "/app/api/tickets/" + ticketId + "/actions", body).then(function (res) {
      if (res.status !== 202) { message(res.data.error || "Refused.", "error"); return; }
      message(KIND_WORDS[body.kind] + "… (waiting for the connector)", "progress");
      follow(res.data.action_id);
    });
  }

  var FOLLOW_POLLS = 240; // two minutes: then say so instead of spinning forever

  function follow(actionId, polls) {
    polls = polls || 0;
    api("GET", "/app/api/actions/" + actionId).then(function (res) {
      if (res.status === 200 && res.data.state === "queued" && polls >= FOLLOW_POLLS) {
        message("Still queued: the connector applies it as soon as Zendesk and Jira answer. Reopen the ticket to see it.", "progress");
        return;
      }
      if (res.status === 200 && res.data.state === "queued") { setTimeout(function () { follow(actionId, polls + 1); }, 500); return; }
      var done = res.status === 200 && res.data.state === "done";
      var note = el("p", { id: "outcome", "class": done ? "progress" : "error", text: (res.data && res.data.message) || "Failed." });
      api("GET", "/app/api/tickets/" + ticketId).then(function (view) {
        if (view.status === 200) { render(view.data, note); } else { show([note]); }
      });
    });
  }

  // As in the suggestion note: rounded down to a multiple of 5, never surer than it is.
  function percent(confidence) { return Math.floor(confidence * 20) * 5 + "%"; }

  function problemLine(p, label, kind) {
    return el("li", {}, [
      el("span", {}, [el("span", { "class": "key", text: p.key || "" }), el("span", { text: " " + p.summary })]),
      el("button", { text: label, onclick: function () { act({ kind: kind, problem_id: p.id }); } })
    ]);
  }

  function search(kind, label) {
    var list = el("ul", { "class": "choices", id: "search-results" });
    var box = el("input", { type: "search", id: "search", placeholder: "Jira key or words", "aria-label": "Search open problems" });
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        api("GET", "/app/api/problems?q=" + encodeURIComponent(box.value)).then(function (res) {
          list.textContent = "";
          (res.data.problems || []).forEach(function (p) { list.appendChild(problemLine(p, label, kind)); });
          if (!(res.data.problems || []).length) { list.appendChild(el("li", { "class": "muted", text: "No open problem matches." })); }
        });
      }, 250);
    });
    return el("section", {}, [el("h3", { text: kind === "move" ? "Move to another problem" : "Search open problems" }), box, list]);
  }

  function trendText(t) {
    var words = { rising: "rising", falling: "falling", steady: "steady" }[t.direction] || t.direction;
    return words + " (" + t.last + " new this week, " + t.before + " the week before)";
  }

  function linked(view) {
    var l = view.linked, p = l.problem;
    var title = el("h2", {}, [
      p.jira_url ? el("a", { href: p.jira_url, target: "_blank", rel: "noopener noreferrer", "class": "key", id: "jira-key", text: p.key || "" })
                 : el("span", { "class": "key", id: "jira-key", text: p.key || "Jira issue being created" }),
      el("span", { text: " " })
    ]);
    var facts = el("dl", {}, [
      el("dt", { text: "Summary" }), el("dd", { id: "summary", text: p.summary }),
      el("dt", { text: "Team" }), el("dd", { text: p.team }),
      el("dt", { text: "Status" }), el("dd", {}, [el("span", { "class": "pill " + (p.status_category || ""), id: "jira-status", text: p.status || "not read yet" })]),
      el("dt", { text: "Expected fix" }), el("dd", { text: p.expected_fix || "not set" }),
      el("dt", { text: "Impact" }), el("dd", { id: "impact", text: p.tickets + " tickets, " + p.organizations + " organisations, " + trendText(p.trend) })
    ]);
    var solution = null;
    if (p.solution) {
      var kind = p.solution_kind ? p.solution_kind.replace(/_/g, " ") : "solution";
      solution = el("section", {}, [
        el("h3", { text: "Agreed " + kind }),
        el("div", { "class": "solution", id: "solution", text: p.solution }),
        el("button", { id: "insert", text: "Insert into reply", onclick: function () {
          client.invoke("ticket.comment.appendText", p.solution).then(function () {
            document.getElementById("insert").textContent = "Inserted";
          });
        } })
      ]);
    }
    var by = el("p", { "class": "muted", id: "linked-by", text: "Linked by " + (l.linked_by || "someone") + " through " + l.how + "." });
    var unlink = el("button", { id: "unlink", text: "Unlink", onclick: function () { act({ kind: "unlink" }); } });
    return [title, facts, solution, by, unlink, search("move", "Move here")];
  }

  function unlinked(view) {
    var parts = [el("h2", { text: "Not linked to a problem" })];
    if (view.suggestions.length) {
      var list = el("ul", { "class": "choices", id: "suggestions" });
      view.suggestions.forEach(function (s) {
        list.appendChild(el("li", {}, [
          el("span", {}, [el("span", { "class": "key", text: s.key || "" }), el("span", { text: " " + s.summary + " " }), el("span", { "class": "pill", text: percent(s.confidence) + " match" })]),
          el("button", { text: "Link", onclick: function () { act({ kind: "link", problem_id: s.problem_id }); } })
        ]));
      });
      parts.push(el("h3", { text: "Suggested problems" }), list);
    }
    parts.push(search("link", "Link"));
    var select = el("select", { id: "team", "aria-label": "Owning team" });
    view.teams.forEach(function (t) { select.appendChild(el("option", { value: t.key, text: t.name })); });
    parts.push(el("section", {}, [
      el("h3", { text: "Create a problem for this ticket" }), select,
      el("button", { "class": "primary", id: "create", text: "Create problem", onclick: function () { act({ kind: "create", team: select.value }); } })
    ]));
    return parts;
  }

  function render(view, note) {
    var parts = [];
    if (who.requester) { parts.push(el("p", { "class": "muted", id: "requester", text: "Ticket from " + who.requester })); }
    if (note) { parts.push(note); }
    view.waiting.forEach(function (a) { parts.push(el("p", { "class": "progress", text: KIND_WORDS[a.kind] + "… (queued)" })); });
    show(parts.concat(view.linked ? linked(view) : unlinked(view)));
  }

  if (!client) { message("Open this app from a Zendesk ticket.", "error"); return; }
  client.get(["ticket.id", "ticket.requester.name", "currentUser.name"]).then(function (data) {
    ticketId = data["ticket.id"];
    who.requester = data["ticket.requester.name"];
    who.agent = data["currentUser.name"];
    load();
  }, function () { message("Zendesk did not tell the app which ticket is open.", "error"); });
}());
