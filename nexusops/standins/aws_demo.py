"""The demo's AWS world in moto beyond S3 buckets (issue 21): the RDS primary and a read
replica, a Redis replication group (cluster mode enabled: two shards of a primary and a
replica each), a data volume on an instance, a bucket left public, the content service's role
with a policy broader than it needs, and the CloudWatch points AWS would publish for them (moto
publishes none by itself)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

# a primary near its limit and evicting (runbook 3.3), the other shard comfortable
REDIS_NODES = (("nexus-redis-0001-001", 91.0), ("nexus-redis-0001-002", 89.0),
               ("nexus-redis-0002-001", 78.0), ("nexus-redis-0002-002", 77.0))  # fmt: skip


def seed(client: Any, now: dt.datetime | None = None) -> dict[str, str]:
    """``client(service)`` gives a boto3 client for moto; returns the ids made."""
    now = now or dt.datetime.now(dt.UTC)
    rds = client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="nexus-prod", DBInstanceClass="db.r6g.large", Engine="postgres",
        MasterUsername="nexus", MasterUserPassword="demo-only-password", AllocatedStorage=100,
        BackupRetentionPeriod=7,
    )  # fmt: skip
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="nexus-prod-read-1", SourceDBInstanceIdentifier="nexus-prod"
    )
    cache = client("elasticache")
    cache.create_replication_group(
        ReplicationGroupId="nexus-redis", ReplicationGroupDescription="NEXUS sessions and cache",
        CacheNodeType="cache.r6g.large", Engine="redis", NumNodeGroups=2, ReplicasPerNodeGroup=1,
        ClusterMode="enabled",  # shards can be added (runbook 3.3)
    )  # fmt: skip
    ec2 = client("ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    volume = ec2.create_volume(
        Size=100, AvailabilityZone=instance["Placement"]["AvailabilityZone"], VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume",
                            "Tags": [{"Key": "Name", "Value": "nexus-logs"}]}],
    )["VolumeId"]  # fmt: skip
    ec2.attach_volume(VolumeId=volume, InstanceId=instance["InstanceId"], Device="/dev/xvdf")
    s3 = client("s3")
    s3.put_bucket_acl(Bucket="nexus-uploads", ACL="public-read")
    s3.put_bucket_policy(Bucket="nexus-uploads", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": "arn:aws:s3:::nexus-uploads/*"}],
    }))  # fmt: skip
    iam = client("iam")
    iam.create_role(RoleName="nexus-content-service-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ec2.amazonaws.com"}}],
    }))  # fmt: skip
    iam.put_role_policy(RoleName="nexus-content-service-role", PolicyName="S3Access",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Sid": "Uploads", "Effect": "Allow",
                             "Action": ["s3:PutObject", "s3:GetObject"],
                             "Resource": "arn:aws:s3:::nexus-uploads/*"},
                            {"Sid": "TooBroad", "Effect": "Allow", "Action": "s3:*",
                             "Resource": "*"}]}))  # fmt: skip
    points = []
    for minutes in range(12, 0, -1):  # the last 12 minutes, inside the actions' 15
        at = now - dt.timedelta(minutes=minutes)
        points.append(
            (
                "AWS/RDS",
                "ReplicaLag",
                "DBInstanceIdentifier",
                "nexus-prod-read-1",
                4.0 + 3 * (12 - minutes),
                at,
            )
        )  # a replica falling behind
        for node, base in REDIS_NODES:
            points.append(
                (
                    "AWS/ElastiCache",
                    "DatabaseMemoryUsagePercentage",
                    "CacheClusterId",
                    node,
                    base + minutes / 10,
                    at,
                )
            )
            points.append(("AWS/ElastiCache", "Evictions", "CacheClusterId", node,
                           120.0 if base > 90 else 0.0, at))  # fmt: skip
    cloudwatch = client("cloudwatch")
    for namespace, metric, dim, value_of, value, at in points:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{
            "MetricName": metric, "Dimensions": [{"Name": dim, "Value": value_of}],
            "Value": value, "Timestamp": at,
        }])  # fmt: skip
    return {"instance": instance["InstanceId"], "volume": volume}
