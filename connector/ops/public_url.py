"""Does the public URL lead to a running connector? Doctor asks `GET <public URL>/healthz`.

It asks from the machine doctor runs on, which is not Zendesk or Jira: an answer proves the URL
leads to a running connector; no answer may also mean this machine cannot see it (the webhooks'
last deliveries tell whether Zendesk and Jira can). The standard library is enough for one GET
of our own endpoint; vendor calls go through the adapters' transport, this is not one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 3.0


def healthz_problem(public_url: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when `<public_url>/healthz` answers as the connector does, else what went wrong."""
    url = f"{public_url.rstrip('/')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(1000)
    except urllib.error.HTTPError as exc:
        return f"GET {url} answered {exc.code}"
    except urllib.error.URLError as exc:
        return f"GET {url} failed: {exc.reason}"
    except TimeoutError:
        return f"GET {url} got no answer within {timeout:g} s"
    except OSError as exc:
        return f"GET {url} failed: {exc}"
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("status") == "ok":
        return None
    return f'GET {url} answered, but not as the connector does ({{"status": "ok"}})'
