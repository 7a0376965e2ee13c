"""A local fake of the Zendesk Support API that the connector uses, for end-to-end tests, the
demo and benchmarks. The real `zenpy` client talks to it over HTTP.

    from connector_sandboxes.zendesk import ZendeskSandbox
    sb = ZendeskSandbox()            # logins: admin@example.com/token:sandbox (the API user),
    url = sb.start()                 # agent@example.com/token:agent-sandbox (a human agent)
                                     # http://127.0.0.1:PORT ; sb.stop(), sb.reset()

Modules: `app` (Flask factory, auth, rate-limit headers, errors), `state` (records and the lock),
`people` (users, organizations), `fields` (ticket and organization fields), `tickets` and
`ticket_routes` (tickets, comments, update_many), `jobs` (background jobs), `search` (search,
incremental export), `triggers`, `webhooks` and `delivery` (signed webhook deliveries), `render`
(placeholders, dynamic content), `limits` (rate limits, faults), `control` (`/_sandbox` API),
`sandbox` (the `ZendeskSandbox` handle).
"""

from connector_sandboxes.zendesk.sandbox import ZendeskSandbox

__all__ = ["ZendeskSandbox"]
