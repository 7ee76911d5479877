"""The runbook's scenarios (2.3, 4, 5) as rows, with each step's action and default parameters.

A scenario is only created when its slug is missing, so a manager's edits in the admin survive
every ``seed_demo`` (it runs on each ``make run``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from incidents.models import Service

from .models import Scenario, ScenarioStep

D, R, F = ScenarioStep.Kind.DIAGNOSIS, ScenarioStep.Kind.RESOLUTION, ScenarioStep.Kind.FOLLOW_UP
GW = {"deployment": "api-gateway"}

# slug: (title, section, symptoms, keywords, services, [(kind, text, action, params)])
SCENARIOS: dict[str, tuple] = {
    "platform-down": (
        "Platform down", "2.3", "Health check failing, 502/504 errors, no traffic.",
        "down,outage,502,504,health check,no traffic,unavailable",
        ["api-gateway"],
        [
            (D, "Check pod status (`kubectl get pods -n nexus-production`)", "k8s.pods", {}),
            (D, "Check recent deployments (`kubectl rollout history deployment/api-gateway`)",
             "k8s.rollout_history", GW),
            (D, "Check logs (`kubectl logs deployment/api-gateway --tail=100`)", "k8s.logs",
             {**GW, "tail_lines": 100}),
            (R, "Check if a recent deployment caused the issue", "", {}),
            (R, "Roll back if deployment-related", "k8s.rollout_undo", GW),
            (R, "Check database connectivity", "pg.connections", {}),
            (R, "Check Redis connectivity", "redis.ping", {}),
            (R, "Restart affected pods if needed", "k8s.rollout_restart", GW),
            (R, "Scale up if traffic spike", "k8s.scale", {**GW, "replicas": 6}),
        ],
    ),
    "high-api-latency": (
        "High API latency", "2.3", "Slow response times, timeout errors.",
        "latency,slow,timeout,timeouts,p95,p99",
        ["api-gateway", "postgresql", "redis"],
        [
            (D, "Check pod CPU/memory usage and the autoscaler", "k8s.hpa", GW),
            (D, "Check database slow queries (`pg_stat_statements`, top 10 by mean time)",
             "pg.top_statements", {"limit": 10}),
            (D, "Check Redis performance (`INFO stats`)", "redis.info", {"section": "stats"}),
            (R, "Identify slow endpoints in Datadog APM", "", {}),
            (R, "Optimize database queries if needed", "pg.long_queries", {"limit": 10}),
            (R, "Scale up pods if CPU/memory high", "k8s.hpa_patch", GW),
            (R, "Add caching if appropriate", "", {}),
            (R, "Enable read replicas if database bottleneck", "", {}),
        ],
    ),
    "db-connection-pool-exhausted": (
        "Database connection pool exhausted", "2.3", "“Too many connections” errors.",
        "too many connections,connection pool,connections,pool exhausted",
        ["postgresql", "user-service"],
        [
            (D, "Check active connections (`SELECT count(*) FROM pg_stat_activity`)",
             "pg.connections", {}),
            (D, "Check the longest-running queries", "pg.long_queries", {"limit": 10}),
            (R, "Increase database connection limit", "", {}),
            (R, "Increase connection pool size in application", "", {}),
            (R, "Restart affected services", "k8s.rollout_restart",
             {"deployment": "user-service"}),
            (R, "Investigate connection leaks; terminate a stuck backend if needed",
             "pg.terminate_backend", {}),
        ],
    ),
    "out-of-disk-space": (
        "Out of disk space", "2.3", "Pods crashing, write errors.",
        "disk,disk space,no space,write errors,volume",
        [],
        [
            (D, "Check pods and restarts", "k8s.pods", {}),
            (D, "Describe a crashing pod's events (`kubectl describe pod`)", "k8s.pod_events", {}),
            (R, "Increase EBS volume size", "", {}),
            (R, "Clean up old logs", "", {}),
            (R, "Implement log rotation", "", {}),
            (R, "Move old data to S3", "", {}),
            (R, "Delete the crashed pod once space is freed", "k8s.delete_pod", {}),
        ],
    ),
    "authentication-issues": (
        "Authentication issues", "5.1", "Users unable to log in.",
        "login,log in,auth,authentication,jwt,oauth,session",
        ["auth-service", "redis"],
        [
            (D, "Check auth service logs", "k8s.logs",
             {"deployment": "auth-service", "tail_lines": 100}),
            (D, "Verify JWT secret is correct", "", {}),
            (D, "Check Redis connection (session store)", "redis.ping", {}),
            (D, "Verify OAuth provider status (discovery, keys, a token round-trip)",
             "saas.oauth_health", {}),
            (R, "Restart auth service", "k8s.rollout_restart", {"deployment": "auth-service"}),
        ],
    ),
    "file-upload-failures": (
        "File upload failures", "5.2", "Video upload fails.",
        "upload,uploads,video,s3,multipart",
        ["content-service", "s3"],
        [
            (D, "Check S3 bucket permissions and policy", "aws.bucket_report",
             {"bucket": "nexus-uploads"}),
            (D, "Verify file size within limits (500MB)", "", {}),
            (D, "Check multipart upload settings", "", {}),
            (D, "Review content-service logs", "k8s.logs",
             {"deployment": "content-service", "tail_lines": 100}),
            (R, "Verify IAM role permissions (nexus-content-service-role, S3Access)", "", {}),
        ],
    ),
    "email-delivery-issues": (
        "Email delivery issues", "5.3", "Emails not being delivered.",
        "email,emails,sendgrid,mail,delivery",
        ["notification-service", "redis"],
        [
            (D, "Check SendGrid status, bounce and block rates; verify the API key is valid",
             "saas.sendgrid_health", {"days": 1}),
            (D, "Check email queue in Redis (`LLEN email_queue`)", "redis.llen",
             {"queue": "email_queue"}),
            (D, "Review notification-service logs", "k8s.logs",
             {"deployment": "notification-service", "tail_lines": 100}),
            (R, "Process stuck emails: restart the notification service", "k8s.rollout_restart",
             {"deployment": "notification-service"}),
        ],
    ),
    "stripe-payment-failures": (
        "Stripe payment failures", "5.4", "Payment processing errors.",
        "stripe,payment,payments,billing,checkout,charge",
        ["billing-service"],
        [
            (D, "Check Stripe for errors: API reachability, webhook delivery failures",
             "saas.stripe_health", {"hours": 24}),
            (D, "Verify webhook signatures", "", {}),
            (D, "Check billing-service logs", "k8s.logs",
             {"deployment": "billing-service", "tail_lines": 100}),
            (D, "Confirm Stripe API key is correct", "", {}),
            (R, "Test the Stripe connection and the webhook endpoint", "", {}),
        ],
    ),
    "postgres-backup-restore": (
        "PostgreSQL backup and restore", "4.1–4.2", "Before a migration, or data loss.",
        "backup,restore,data loss,corruption,migration",
        ["postgresql"],
        [
            (R, "Take a manual backup to s3://nexus-backups/manual/", "aws.pg_backup",
             {"prefix": "manual"}),
            (R, "Restore: load the chosen backup (gunzip | psql, one transaction)",
             "pg.restore_from_s3", {"bucket": "nexus-backups"}),
            (R, "Restart services", "k8s.rollout_restart", {"deployment": "user-service"}),
        ],
    ),
    "mongodb-backup-restore": (
        "MongoDB backup and restore", "4.1", "Before a risky change to MongoDB, or data loss.",
        "mongodb,mongo,mongodump,backup,restore",
        ["mongodb"],
        [
            (R, "Take a manual backup to s3://nexus-backups/manual/", "mongo.backup_to_s3",
             {"prefix": "manual"}),
            (R, "Restore the chosen backup (drops and reloads each collection)",
             "mongo.restore_from_s3", {"bucket": "nexus-backups"}),
        ],
    ),
    "point-in-time-recovery": (
        "Point-in-time recovery (RDS)", "4.2, 4.4", "Database corruption; need data as of a time.",
        "point in time,pitr,corruption,corrupted,rds",
        ["postgresql"],
        [
            (R, "Restore to a point in time into a new instance", "aws.rds_pitr",
             {"source": "nexus-prod"}),
            (F, "Update connection strings to the new instance", "", {}),
            (F, "Test thoroughly before cutting over", "", {}),
            (F, "Cut over", "", {}),
        ],
    ),
    "s3-media-restore": (
        "Restore a deleted or overwritten S3 file", "4.3", "A media file is gone or corrupted.",
        "deleted file,media,restore file,overwritten,s3",
        ["s3"],
        [
            (D, "List the file's versions", "aws.s3_versions",
             {"bucket": "nexus-media", "key": "uploads/video_123.mp4"}),
            (D, "Check the bucket's versioning, replication and lifecycle", "aws.bucket_report",
             {"bucket": "nexus-media"}),
            (R, "Restore the chosen version as the latest", "aws.s3_restore",
             {"bucket": "nexus-media", "key": "uploads/video_123.mp4"}),
        ],
    ),
    "disaster-recovery": (
        "Disaster recovery", "4.4",
        "AZ or region failure, database corruption. RTO 1 h, RPO 5 min.",
        "region,disaster,dr,failover,az failure",
        [],
        [
            (D, "Single AZ failure: confirm automatic failover (no manual step)", "k8s.pods", {}),
            (R, "Full region failure: promote the DR read replica to master", "", {}),
            (R, "Update DNS to point to the DR region", "", {}),
            (R, "Restore from latest backup (or PITR for corruption)", "aws.rds_pitr",
             {"source": "nexus-prod"}),
            (F, "DR test (quarterly): restore a backup to staging and run smoke tests", "", {}),
        ],
    ),
}  # fmt: skip


def seed_scenarios(say: Callable[[str], None]) -> None:
    created = 0
    with transaction.atomic():
        for order, (slug, row) in enumerate(SCENARIOS.items()):
            title, section, symptoms, keywords, services, steps = row
            scenario, new = Scenario.objects.get_or_create(
                slug=slug,
                defaults={
                    "title": title,
                    "section": section,
                    "symptoms": symptoms,
                    "keywords": keywords,
                    "order": order * 10,
                },
            )
            if not new:
                continue
            created += 1
            scenario.services.set(Service.objects.filter(slug__in=services))
            for n, (kind, text, action, params) in enumerate(steps):
                ScenarioStep.objects.create(
                    scenario=scenario, kind=kind, order=n, text=text, action=action, params=params
                )
    say(f"runbook scenarios: {created} created, {len(SCENARIOS) - created} kept")
