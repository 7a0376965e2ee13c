"""Close the loop: when a problem's Jira issue resolves (or a workaround is agreed), every linked
ticket gets exactly one reply for that outcome, in `update_many` batches, and Jira one summary.

Modules: `templates` (what the customer reads), `plan` (who gets what, held or not), `fanout`
(send, poll, verify), `followups` (closed tickets), `summary` (the Jira comment), `approval`
(preview, approve, status), `service` (the queue's and reconcile's entry points). Their rows,
claims and queries live in the store: `connector.store.reply_rows`, `reply_followups`,
`reply_runs`, `reply_reports`.
"""
