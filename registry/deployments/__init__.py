"""Deployment targets and the webhook outbox (issue 10; DESIGN invariant 6).

- models.py: DeploymentTarget, Delivery (the outbox row, as healthchecks' Flip) and
  DeliveryAttempt (one row per HTTP attempt).
- addresses.py: which URLs and addresses a webhook may go to (SSRF rules).
- schedule.py: when a failed delivery is tried again.
- sending.py: the signed HTTP POST itself (Standard Webhooks).

The state changes are in registry.services.deployments (targets) and
registry.services.deliveries (enqueueing, claiming, recording attempts); the Celery
tasks in registry.tasks only call them.
"""
