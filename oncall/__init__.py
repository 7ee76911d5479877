"""On-call: escalation on time (runbook 2.4), weekly rotations, handoffs and on-call pay
(runbook 8). It stands on ``incidents``; ``incidents`` never imports it (README, Architecture).
"""
