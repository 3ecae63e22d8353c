# ruff: noqa: E501 - the table keeps one control per line, titles as AWS writes them
"""Build ``aws_fsbp_1.0.0.json`` (AWS Foundational Security Best Practices) from the table below.

Run from the repository root: ``python findings/catalog/build_fsbp.py``. The output is committed;
this script is how it was made and how it is kept in step.

Facts (control ids as AWS writes them, titles, severities as Security Hub rates them; every FSBP
control is automated) follow the published mappings (Prowler's FSBP compliance file, checked
against AWS Security Hub's FSBP control list). The prose is ours: for a control one of our checks
decides, the text of the CIS v4.0.1 recommendation the same check decides (or new text where
that one covers more); for the others, a sentence built from the control's kind below. Those are
marked ``"evaluated": false``: no check of ours decides them yet, and the product lists them as
not evaluated with their service named, never as passing.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "aws_fsbp_1.0.0.json"
CIS = HERE / "cis_aws_foundations_4.0.1.json"

# Section (the id prefix) -> the service's name as shown ("no collector reads <service>").
SERVICES = {
    "Account": "Account",
    "ACM": "ACM",
    "APIGateway": "API Gateway",
    "AppSync": "AppSync",
    "Athena": "Athena",
    "AutoScaling": "Auto Scaling",
    "Backup": "Backup",
    "CloudFormation": "CloudFormation",
    "CloudFront": "CloudFront",
    "CloudTrail": "CloudTrail",
    "CodeBuild": "CodeBuild",
    "Cognito": "Cognito",
    "Config": "Config",
    "DMS": "DMS",
    "DocumentDB": "DocumentDB",
    "DynamoDB": "DynamoDB",
    "EC2": "EC2",
    "ECR": "ECR",
    "ECS": "ECS",
    "EFS": "EFS",
    "EKS": "EKS",
    "ELB": "ELB",
    "EMR": "EMR",
    "ES": "Elasticsearch",
    "ElastiCache": "ElastiCache",
    "ElasticBeanstalk": "Elastic Beanstalk",
    "EventBridge": "EventBridge",
    "FSx": "FSx",
    "GuardDuty": "GuardDuty",
    "IAM": "IAM",
    "KMS": "KMS",
    "Kinesis": "Kinesis",
    "Lambda": "Lambda",
    "MSK": "MSK",
    "Macie": "Macie",
    "Neptune": "Neptune",
    "NetworkFirewall": "Network Firewall",
    "OpenSearch": "OpenSearch",
    "PrivateCertificateAuthority": "Private CA",
    "RDS": "RDS",
    "Redshift": "Redshift",
    "Route53": "Route 53",
    "S3": "S3",
    "SNS": "SNS",
    "SQS": "SQS",
    "SSM": "Systems Manager",
    "SageMaker": "SageMaker",
    "SecretsManager": "Secrets Manager",
    "StepFunctions": "Step Functions",
    "WAF": "WAF",
}

# What kind of safeguard a control is: the rationale and console pointer we write for it.
KINDS = {
    "rest": (
        "Data stored unencrypted is readable by anyone who obtains the underlying storage, a "
        "snapshot or a backup. Encryption with KMS keys adds a second gate (the key policy) and "
        "records every use of the key in CloudTrail.",
        "Turn on encryption at rest for the resource. Where the service only offers encryption "
        "when the resource is created, create an encrypted copy and move the data to it.",
    ),
    "transit": (
        "Traffic sent in clear text can be read or altered by anyone on the network path. "
        "Requiring TLS protects credentials and data on the way and proves the endpoint's "
        "identity to the client.",
        "Change the resource's listener, endpoint or parameter settings so that only TLS "
        "connections are accepted, then confirm that clients still connect.",
    ),
    "public": (
        "A resource reachable or readable from the internet is found by automated scanners "
        "within hours. Keeping it private leaves access to identities and networks you chose, "
        "so a mistake elsewhere does not expose it to everyone.",
        "Remove the public setting (public IP, public endpoint, public share or a policy that "
        "allows everyone) and give access through named accounts, roles or private networking.",
    ),
    "log": (
        "Without these logs nobody can reconstruct who did what, from where and when, either "
        "for an investigation or to notice misuse while it happens. Logs switched on after an "
        "incident do not cover it.",
        "Turn on the logging the control names and send it to a log group or bucket that only "
        "the security team can change.",
    ),
    "backup": (
        "Backups and recovery features are what brings data back after deletion, corruption or "
        "ransomware. A resource outside them may be lost for good by a single mistaken call.",
        "Add the resource to an AWS Backup plan or turn on the service's automatic backups, with "
        "a retention period that matches how far back you may need to restore.",
    ),
    "delete": (
        "Deletion protection makes removing the resource a deliberate two-step act, so a "
        "script, a stack update or a compromised credential cannot destroy it by one call.",
        "Turn on deletion protection in the resource's settings; turn it off only for a "
        "planned removal.",
    ),
    "ha": (
        "A resource in one Availability Zone or with a single node stops when that zone or "
        "node fails. Spreading it keeps the workload available through ordinary failures and "
        "maintenance.",
        "Change the resource's deployment to span several Availability Zones or nodes, as the "
        "control describes.",
    ),
    "patch": (
        "Outdated versions and platforms stop receiving security fixes. Keeping them current, "
        "automatically where the service allows, closes known vulnerabilities without waiting "
        "for someone to remember.",
        "Move the resource to a supported version, and turn on automatic minor upgrades where "
        "the service offers them.",
    ),
    "identity": (
        "Credentials and permissions are the first thing an attacker looks for. Keeping them "
        "few, short-lived, narrow and protected by MFA limits what a leaked secret or a "
        "phished person can do.",
        "In IAM (or the service's own access settings), tighten the credential or permission "
        "the control names, and check who relied on it before you remove it.",
    ),
    "network": (
        "Every open path into a network is a way in for an attacker. Allowing only the traffic "
        "a workload needs, from the sources that need it, limits what a compromised or "
        "misconfigured host can reach.",
        "Change the security group, network ACL, subnet or VPC setting the control names so "
        "that only the needed traffic is allowed.",
    ),
    "detect": (
        "Threat detection and monitoring services find attacks and misconfigurations that "
        "nobody is looking for. Switched off, they report nothing, and the first sign of a "
        "compromise comes from somewhere else.",
        "Turn the service or feature on in every Region you use, preferably for the whole "
        "organisation from a delegated administrator account.",
    ),
    "secret": (
        "Secrets written into configuration, URLs or environment variables are readable by "
        "everyone who can read that configuration, and are copied into logs and build output. "
        "A secrets store keeps them encrypted, access-controlled and rotatable.",
        "Move the secret to Secrets Manager or Parameter Store, reference it from there, and "
        "rotate the exposed value.",
    ),
    "waf": (
        "A web application firewall filters common attacks (injection, bad bots, floods) "
        "before they reach the application; an empty or unlogged one gives a false sense of "
        "protection.",
        "Associate a web ACL with rules that fit the application, and turn on its logging "
        "and metrics.",
    ),
    "hygiene": (
        "Defaults, leftovers and missing housekeeping make an environment harder to reason "
        "about and easier to attack: predictable names, forgotten resources and unmanaged "
        "settings are where mistakes hide.",
        "Change the setting the control names in the service's console, and make the same "
        "change in the templates that create such resources.",
    ),
}

# ref | severity | kind | title. Retired controls are left out.
TABLE = """
Account.1|medium|hygiene|Security contact information should be provided for an AWS account
ACM.1|medium|hygiene|Imported and ACM-issued certificates should be renewed after a specified time period
ACM.2|high|transit|RSA certificates managed by ACM should use a key length of at least 2,048 bits
APIGateway.1|medium|log|API Gateway REST and WebSocket API execution logging should be enabled
APIGateway.2|medium|transit|API Gateway REST API stages should be configured to use SSL certificates for backend authentication
APIGateway.3|low|log|API Gateway REST API stages should have AWS X-Ray tracing enabled
APIGateway.4|medium|waf|API Gateway should be associated with a WAF Web ACL
APIGateway.5|medium|rest|API Gateway REST API cache data should be encrypted at rest
APIGateway.8|medium|identity|API Gateway routes should specify an authorization type
APIGateway.9|medium|log|Access logging should be configured for API Gateway V2 Stages
AppSync.1|medium|rest|AWS AppSync API caches should be encrypted at rest
AppSync.2|medium|log|AWS AppSync should have field-level logging enabled
Athena.1|medium|rest|Athena workgroups should be encrypted at rest
AutoScaling.1|low|ha|Auto Scaling groups associated with a load balancer should use ELB health checks
AutoScaling.2|medium|ha|Amazon EC2 Auto Scaling group should cover multiple Availability Zones
AutoScaling.3|high|identity|Auto Scaling group launch configurations should configure EC2 instances to require Instance Metadata Service Version 2 (IMDSv2)
AutoScaling.4|high|identity|Auto Scaling group launch configuration should not have a metadata response hop limit greater than 1
AutoScaling.5|high|public|Amazon EC2 instances launched using Auto Scaling group launch configurations should not have Public IP addresses
AutoScaling.6|medium|ha|Auto Scaling groups should use multiple instance types in multiple Availability Zones
AutoScaling.9|medium|hygiene|Amazon EC2 Auto Scaling groups should use Amazon EC2 launch templates
Backup.1|medium|rest|AWS Backup recovery points should be encrypted at rest
CloudFormation.1|low|detect|CloudFormation stacks should be integrated with Simple Notification Service (SNS)
CloudFront.1|critical|hygiene|CloudFront distributions should have a default root object configured
CloudFront.3|medium|transit|CloudFront distributions should require encryption in transit
CloudFront.4|low|ha|CloudFront distributions should have origin failover configured
CloudFront.5|medium|log|CloudFront distributions should have logging enabled
CloudFront.6|medium|waf|CloudFront distributions should have WAF enabled
CloudFront.7|medium|transit|CloudFront distributions should use custom SSL/TLS certificates
CloudFront.8|low|transit|CloudFront distributions should use SNI to serve HTTPS requests
CloudFront.9|medium|transit|CloudFront distributions should encrypt traffic to custom origins
CloudFront.10|medium|transit|CloudFront distributions should not use deprecated SSL protocols between edge locations and custom origins
CloudFront.12|high|hygiene|CloudFront distributions should not point to non-existent S3 origins
CloudFront.13|medium|public|CloudFront distributions should use origin access control
CloudTrail.1|high|log|CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events
CloudTrail.2|medium|rest|CloudTrail should have encryption at-rest enabled
CloudTrail.3|high|log|At least one CloudTrail trail should be enabled
CloudTrail.4|low|log|CloudTrail log file validation should be enabled
CloudTrail.5|low|log|CloudTrail trails should be integrated with Amazon CloudWatch Logs
CloudTrail.6|critical|public|Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible
CloudTrail.7|low|log|Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket
CodeBuild.1|critical|secret|CodeBuild Bitbucket source repository URLs should not contain sensitive credentials
CodeBuild.2|critical|secret|CodeBuild project environment variables should not contain clear text credentials
CodeBuild.3|low|rest|CodeBuild S3 logs should be encrypted
CodeBuild.4|medium|log|CodeBuild project environments should have a logging AWS Configuration
CodeBuild.5|high|identity|CodeBuild project environments should not have privileged mode enabled
CodeBuild.7|medium|rest|CodeBuild report group exports should be encrypted at rest
Cognito.1|medium|detect|Cognito user pools should have threat protection activated with full function enforcement mode for standard authentication
Config.1|medium|log|AWS Config should be enabled and use the service-linked role for resource recording
DMS.1|critical|public|Database Migration Service replication instances should not be public
DMS.6|medium|patch|DMS replication instances should have automatic minor version upgrade enabled
DMS.7|medium|log|DMS replication tasks for the target database should have logging enabled
DMS.8|medium|log|DMS replication tasks for the source database should have logging enabled
DMS.9|medium|transit|DMS endpoints should use SSL
DocumentDB.1|medium|rest|Amazon DocumentDB clusters should be encrypted at rest
DocumentDB.2|medium|backup|Amazon DocumentDB clusters should have an adequate backup retention period
DocumentDB.3|critical|public|Amazon DocumentDB manual cluster snapshots should not be public
DocumentDB.4|medium|log|Amazon DocumentDB clusters should publish audit logs to CloudWatch Logs
DocumentDB.5|medium|delete|Amazon DocumentDB clusters should have deletion protection enabled
DynamoDB.1|medium|ha|DynamoDB tables should automatically scale capacity with demand
DynamoDB.2|medium|backup|DynamoDB tables should have point-in-time recovery enabled
DynamoDB.3|medium|rest|DynamoDB Accelerator (DAX) clusters should be encrypted at rest
DynamoDB.4|medium|backup|DynamoDB tables should be present in a backup plan
DynamoDB.6|medium|delete|DynamoDB tables should have deletion protection enabled
DynamoDB.7|medium|transit|DynamoDB Accelerator clusters should be encrypted in transit
EC2.1|critical|public|Amazon EBS snapshots should not be publicly restorable
EC2.2|high|network|VPC default security groups should not allow inbound or outbound traffic
EC2.3|medium|rest|Attached Amazon EBS volumes should be encrypted at-rest
EC2.4|medium|hygiene|Stopped EC2 instances should be removed after a specified time period
EC2.6|medium|log|VPC flow logging should be enabled in all VPCs
EC2.7|medium|rest|EBS default encryption should be enabled
EC2.8|high|identity|EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)
EC2.9|high|public|Amazon EC2 instances should not have a public IPv4 address
EC2.10|medium|network|Amazon EC2 should be configured to use VPC endpoints that are created for the Amazon EC2 service
EC2.12|low|hygiene|Unused Amazon EC2 EIPs should be removed
EC2.13|high|network|Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22
EC2.14|high|network|Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389
EC2.15|medium|public|Amazon EC2 subnets should not automatically assign public IP addresses
EC2.16|low|hygiene|Unused Network Access Control Lists should be removed
EC2.17|low|network|Amazon EC2 instances should not use multiple ENIs
EC2.18|high|network|Security groups should only allow unrestricted incoming traffic for authorized ports
EC2.19|critical|network|Security groups should not allow unrestricted access to ports with high risk
EC2.20|medium|ha|Both VPN tunnels for an AWS Site-to-Site VPN connection should be up
EC2.21|medium|network|Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389
EC2.23|high|network|Amazon EC2 Transit Gateways should not automatically accept VPC attachment requests
EC2.24|medium|patch|Amazon EC2 paravirtual instance types should not be used
EC2.25|high|public|Amazon EC2 launch templates should not assign public IPs to network interfaces
EC2.28|low|backup|EBS volumes should be covered by a backup plan
EC2.51|low|log|EC2 Client VPN endpoints should have client connection logging enabled
ECR.1|high|patch|ECR private repositories should have image scanning configured
ECR.2|medium|hygiene|ECR private repositories should have tag immutability configured
ECR.3|medium|hygiene|ECR repositories should have at least one lifecycle policy configured
ECS.1|high|identity|Amazon ECS task definitions should have secure networking modes and user definitions
ECS.2|high|public|ECS services should not have public IP addresses assigned to them automatically
ECS.3|high|identity|ECS task definitions should not share the host's process namespace
ECS.4|high|identity|ECS containers should run as non-privileged
ECS.5|high|identity|ECS containers should be limited to read-only access to root filesystems
ECS.8|high|secret|Secrets should not be passed as container environment variables
ECS.9|high|log|ECS task definitions should have a logging configuration
ECS.10|medium|patch|ECS Fargate services should run on the latest Fargate platform version
ECS.12|medium|detect|ECS clusters should use Container Insights
EFS.1|medium|rest|Elastic File System should be configured to encrypt file data at-rest using AWS KMS
EFS.2|medium|backup|Amazon EFS volumes should be in backup plans
EFS.3|medium|identity|EFS access points should enforce a root directory
EFS.4|medium|identity|EFS access points should enforce a user identity
EKS.1|high|public|EKS cluster endpoints should not be publicly accessible
EKS.2|high|patch|EKS clusters should run on a supported Kubernetes version
EKS.3|medium|rest|EKS clusters should use encrypted Kubernetes secrets
EKS.8|medium|log|EKS clusters should have audit logging enabled
ELB.1|medium|transit|Application Load Balancer should be configured to redirect all HTTP requests to HTTPS
ELB.2|medium|transit|Classic Load Balancers with SSL/HTTPS listeners should use a certificate provided by AWS Certificate Manager
ELB.3|medium|transit|Classic Load Balancer listeners should be configured with HTTPS or TLS termination
ELB.4|medium|network|Application Load Balancer should be configured to drop invalid http headers
ELB.5|medium|log|Application and Classic Load Balancers logging should be enabled
ELB.6|medium|delete|Application, Gateway, and Network Load Balancers should have deletion protection enabled
ELB.7|medium|ha|Classic Load Balancers should have connection draining enabled
ELB.9|medium|ha|Classic Load Balancers should have cross-zone load balancing enabled
ELB.10|medium|ha|Classic Load Balancer should span multiple Availability Zones
ELB.12|medium|network|Application Load Balancer should be configured with defensive or strictest desync mitigation mode
ELB.13|medium|ha|Application, Network and Gateway Load Balancers should span multiple Availability Zones
ELB.14|medium|network|Classic Load Balancer should be configured with defensive or strictest desync mitigation mode
ELB.16|medium|waf|Application Load Balancers should be associated with an AWS WAF web ACL
EMR.1|high|public|Amazon EMR cluster primary nodes should not have public IP addresses
EMR.2|critical|public|Amazon EMR block public access setting should be enabled
ES.1|medium|rest|Elasticsearch domains should have encryption at-rest enabled
ES.2|critical|public|Elasticsearch domains should not be publicly accessible
ES.3|medium|transit|Elasticsearch domains should encrypt data sent between nodes
ES.4|medium|log|Elasticsearch domain error logging to CloudWatch Logs should be enabled
ES.5|medium|log|Elasticsearch domains should have audit logging enabled
ES.6|medium|ha|Elasticsearch domains should have at least three data nodes
ES.7|medium|ha|Elasticsearch domains should be configured with at least three dedicated master nodes
ES.8|medium|transit|Connections to Elasticsearch domains should be encrypted using the latest TLS security policy
ElastiCache.1|high|backup|ElastiCache (Redis OSS) clusters should have automatic backups enabled
ElastiCache.2|high|patch|ElastiCache clusters should have automatic minor version upgrades enabled
ElastiCache.3|medium|ha|ElastiCache replication groups should have automatic failover enabled
ElastiCache.4|medium|rest|ElastiCache replication groups should be encrypted at rest
ElastiCache.5|medium|transit|ElastiCache replication groups should be encrypted in transit
ElastiCache.6|medium|identity|ElastiCache (Redis OSS) replication groups of earlier versions should have Redis OSS AUTH enabled
ElastiCache.7|high|network|ElastiCache clusters should not use the default subnet group
ElasticBeanstalk.1|low|detect|Elastic Beanstalk environments should have enhanced health reporting enabled
ElasticBeanstalk.3|high|log|Elastic Beanstalk should stream logs to CloudWatch
EventBridge.3|low|identity|EventBridge custom event buses should have a resource-based policy attached
FSx.1|low|backup|FSx for OpenZFS file systems should be configured to copy tags to backups and volumes
GuardDuty.1|high|detect|GuardDuty should be enabled
GuardDuty.9|high|detect|GuardDuty RDS Protection should be enabled
GuardDuty.10|high|detect|GuardDuty S3 Protection should be enabled
IAM.1|high|identity|IAM policies should not allow full "*" administrative privileges
IAM.2|low|identity|IAM users should not have IAM policies attached
IAM.3|medium|identity|IAM users' access keys should be rotated every 90 days or less
IAM.4|critical|identity|IAM root user access key should not exist
IAM.5|medium|identity|MFA should be enabled for all IAM users that have a console password
IAM.6|critical|identity|Hardware MFA should be enabled for the root user
IAM.7|medium|identity|Password policies for IAM users should have strong configurations
IAM.8|medium|identity|Unused IAM user credentials should be removed
IAM.9|critical|identity|MFA should be enabled for the root user
IAM.10|medium|identity|Password policies for IAM users should have strong AWS Configurations
IAM.19|medium|identity|MFA should be enabled for all IAM users
IAM.21|low|identity|IAM customer managed policies that you create should not allow wildcard actions for services
IAM.22|medium|identity|IAM user credentials unused for 45 days should be removed
IAM.26|medium|hygiene|Expired SSL/TLS certificates managed in IAM should be removed
KMS.1|medium|identity|IAM customer managed policies should not allow decryption actions on all KMS keys
KMS.2|medium|identity|IAM principals should not have IAM inline policies that allow decryption actions on all KMS keys
KMS.3|critical|backup|AWS KMS keys should not be deleted unintentionally
KMS.4|medium|rest|AWS KMS key rotation should be enabled
KMS.5|critical|public|KMS keys should not be publicly accessible
Kinesis.1|medium|rest|Kinesis streams should be encrypted at rest
Lambda.1|critical|public|Lambda function policies should prohibit public access
Lambda.2|medium|patch|Lambda functions should use supported runtimes
Lambda.3|low|network|Lambda functions should be in a VPC
Lambda.5|medium|ha|VPC Lambda functions should operate in multiple Availability Zones
MSK.1|medium|transit|MSK clusters should be encrypted in transit among broker nodes
MSK.2|low|detect|MSK clusters should have enhanced monitoring configured
Macie.1|medium|detect|Amazon Macie should be enabled
Neptune.1|medium|rest|Neptune DB clusters should be encrypted at rest
Neptune.2|medium|log|Neptune DB clusters should publish audit logs to CloudWatch Logs
Neptune.3|critical|public|Neptune DB cluster snapshots should not be public
Neptune.4|low|delete|Neptune DB clusters should have deletion protection enabled
Neptune.5|medium|backup|Neptune DB clusters should have automated backups enabled
Neptune.6|medium|rest|Neptune DB cluster snapshots should be encrypted at rest
Neptune.7|medium|identity|Neptune DB clusters should have IAM database authentication enabled
Neptune.8|low|backup|Neptune DB clusters should be configured to copy tags to snapshots
Neptune.9|medium|ha|Neptune DB clusters should be deployed across multiple Availability Zones
NetworkFirewall.2|medium|log|Network Firewall logging should be enabled
NetworkFirewall.3|medium|network|Network Firewall policies should have at least one rule group associated
NetworkFirewall.4|medium|network|The default stateless action for Network Firewall policies should be drop or forward for full packets
NetworkFirewall.5|medium|network|The default stateless action for Network Firewall policies should be drop or forward for fragmented packets
NetworkFirewall.6|medium|network|Stateless Network Firewall rule group should not be empty
NetworkFirewall.9|medium|delete|Network Firewall firewalls should have deletion protection enabled
OpenSearch.1|medium|rest|OpenSearch domains should have encryption at rest enabled
OpenSearch.2|critical|public|OpenSearch domains should not be publicly accessible
OpenSearch.3|medium|transit|OpenSearch domains should encrypt data sent between nodes
OpenSearch.4|medium|log|OpenSearch domain error logging to CloudWatch Logs should be enabled
OpenSearch.5|medium|log|OpenSearch domains should have audit logging enabled
OpenSearch.6|medium|ha|OpenSearch domains should have at least three data nodes
OpenSearch.7|high|identity|OpenSearch domains should have fine-grained access control enabled
OpenSearch.8|medium|transit|Connections to OpenSearch domains should be encrypted using the latest TLS security policy
OpenSearch.10|low|patch|OpenSearch domains should have the latest software update installed
PrivateCertificateAuthority.1|low|identity|AWS Private CA root certificate authority should be disabled
RDS.1|critical|public|RDS snapshot should be private
RDS.2|critical|public|RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration
RDS.3|medium|rest|RDS DB instances should have encryption at-rest enabled
RDS.4|medium|rest|RDS cluster snapshots and database snapshots should be encrypted at rest
RDS.5|medium|ha|RDS DB instances should be configured with multiple Availability Zones
RDS.6|low|detect|Enhanced monitoring should be configured for RDS DB instances
RDS.7|low|delete|RDS clusters should have deletion protection enabled
RDS.8|low|delete|RDS DB instances should have deletion protection enabled
RDS.9|medium|log|RDS DB instances should publish logs to CloudWatch Logs
RDS.10|medium|identity|IAM authentication should be configured for RDS instances
RDS.11|medium|backup|RDS instances should have automatic backups enabled
RDS.12|medium|identity|IAM authentication should be configured for RDS clusters
RDS.13|high|patch|RDS automatic minor version upgrades should be enabled
RDS.14|medium|backup|Amazon Aurora clusters should have backtracking enabled
RDS.15|medium|ha|RDS DB clusters should be configured for multiple Availability Zones
RDS.16|low|backup|RDS DB clusters should be configured to copy tags to snapshots
RDS.17|low|backup|RDS DB instances should be configured to copy tags to snapshots
RDS.18|high|network|RDS instances should be deployed in a VPC
RDS.19|low|detect|Existing RDS event notification subscriptions should be configured for critical cluster events
RDS.20|low|detect|Existing RDS event notification subscriptions should be configured for critical database instance events
RDS.21|low|detect|An RDS event notifications subscription should be configured for critical database parameter group events
RDS.22|low|detect|An RDS event notifications subscription should be configured for critical database security group events
RDS.23|low|hygiene|RDS instances should not use a database engine default port
RDS.24|medium|hygiene|RDS Database clusters should use a custom administrator username
RDS.25|medium|hygiene|RDS database instances should use a custom administrator username
RDS.26|medium|backup|RDS DB instances should be protected by a backup plan
RDS.27|medium|rest|RDS DB clusters should be encrypted at rest
RDS.34|medium|log|Aurora MySQL DB clusters should publish audit logs to CloudWatch Logs
RDS.35|medium|patch|RDS DB clusters should have automatic minor version upgrade enabled
RDS.36|medium|log|RDS for PostgreSQL DB instances should publish logs to CloudWatch Logs
RDS.37|medium|log|Aurora PostgreSQL DB clusters should publish logs to CloudWatch Logs
RDS.38|medium|transit|RDS for PostgreSQL DB instances should be encrypted in transit
RDS.39|medium|transit|RDS for MySQL DB instances should be encrypted in transit
Redshift.1|critical|public|Amazon Redshift clusters should prohibit public access
Redshift.2|medium|transit|Connections to Amazon Redshift clusters should be encrypted in transit
Redshift.3|medium|backup|Amazon Redshift clusters should have automatic snapshots enabled
Redshift.4|medium|log|Amazon Redshift clusters should have audit logging enabled
Redshift.6|medium|patch|Amazon Redshift should have automatic upgrades to major versions enabled
Redshift.7|high|network|Redshift clusters should use enhanced VPC routing
Redshift.8|high|hygiene|Amazon Redshift clusters should not use the default Admin username
Redshift.9|medium|hygiene|Redshift clusters should not use the default database name
Redshift.10|medium|rest|Redshift clusters should be encrypted at rest
Route53.2|medium|log|Route 53 public hosted zones should log DNS queries
S3.1|medium|public|S3 general purpose buckets should have block public access settings enabled
S3.2|critical|public|S3 general purpose buckets should block public read access
S3.3|critical|public|S3 general purpose buckets should block public write access
S3.5|medium|transit|S3 general purpose buckets should require requests to use SSL
S3.6|high|identity|S3 general purpose bucket policies should restrict access to other AWS accounts
S3.7|low|backup|S3 general purpose buckets should use cross-Region replication
S3.8|high|public|S3 general purpose buckets should block public access
S3.9|medium|log|S3 general purpose buckets should have server access logging enabled
S3.10|medium|hygiene|S3 general purpose buckets with versioning enabled should have Lifecycle configurations
S3.11|medium|detect|S3 general purpose buckets should have event notifications enabled
S3.12|medium|identity|ACLs should not be used to manage user access to S3 general purpose buckets
S3.13|low|hygiene|S3 general purpose buckets should have Lifecycle configurations
S3.14|low|backup|S3 general purpose buckets should have versioning enabled
S3.15|medium|backup|S3 general purpose buckets should have Object Lock enabled
S3.17|medium|rest|S3 general purpose buckets should be encrypted at rest with AWS KMS keys
S3.19|critical|public|S3 access points should have block public access settings enabled
S3.20|low|backup|S3 general purpose buckets should have MFA delete enabled
SNS.1|medium|rest|SNS topics should be encrypted at-rest using AWS KMS
SNS.2|medium|log|Logging of delivery status should be enabled for notification messages sent to a topic
SNS.4|high|public|SNS topic access policies should not allow public access
SQS.1|medium|rest|Amazon SQS queues should be encrypted at rest
SSM.1|medium|patch|Amazon EC2 instances should be managed by AWS Systems Manager
SSM.2|high|patch|Amazon EC2 instances managed by Systems Manager should have a patch compliance status of COMPLIANT after a patch installation
SSM.3|low|hygiene|Amazon EC2 instances managed by Systems Manager should have an association compliance status of COMPLIANT
SSM.4|critical|public|SSM documents should not be public
SageMaker.1|high|public|Amazon SageMaker notebook instances should not have direct internet access
SageMaker.2|high|network|SageMaker notebook instances should be launched in a custom VPC
SageMaker.3|high|identity|Users should not have root access to SageMaker notebook instances
SageMaker.4|medium|ha|SageMaker endpoint production variants should have an initial instance count greater than 1
SageMaker.5|medium|network|SageMaker models should have network isolation enabled
SecretsManager.1|medium|secret|Secrets Manager secrets should have automatic rotation enabled
SecretsManager.2|medium|secret|Secrets Manager secrets configured with automatic rotation should rotate successfully
SecretsManager.3|medium|secret|Remove unused Secrets Manager secrets
SecretsManager.4|medium|secret|Secrets Manager secrets should be rotated within a specified number of days
StepFunctions.1|medium|log|Step Functions state machines should have logging turned on
WAF.1|medium|log|AWS WAF Classic Global Web ACL logging should be enabled
WAF.2|medium|waf|AWS WAF Classic Regional rules should have at least one condition
WAF.3|medium|waf|AWS WAF Classic Regional rule groups should have at least one rule
WAF.4|medium|waf|AWS WAF Classic Regional web ACLs should have at least one rule or rule group
WAF.6|medium|waf|AWS WAF Classic global rules should have at least one condition
WAF.7|medium|waf|AWS WAF Classic global rule groups should have at least one rule
WAF.8|medium|waf|AWS WAF Classic global web ACLs should have at least one rule or rule group
WAF.10|medium|waf|AWS WAF web ACLs should have at least one rule or rule group
WAF.11|low|log|AWS WAF web ACL logging should be enabled
WAF.12|medium|detect|AWS WAF rules should have CloudWatch metrics enabled
"""

# Controls one of our checks decides exactly as the control asks: ref -> (checks, CIS v4.0.1
# recommendation whose text we reuse, or None when we write it here in OWN_TEXT).
EVALUATED: dict[str, tuple[list[str], str | None]] = {
    "APIGateway.9": (["apigatewayv2_stage_access_logging"], None),
    "CloudFront.5": (["cloudfront_distribution_logging_enabled"], None),
    "CloudTrail.1": (["cloudtrail_multi_region_trail_logging"], "3.1"),
    "CloudTrail.2": (["cloudtrail_kms_encryption_enabled"], "3.5"),
    "CloudTrail.4": (["cloudtrail_log_file_validation_enabled"], "3.2"),
    "CloudTrail.5": (["cloudtrail_cloudwatch_logs_delivering"], None),
    "CloudTrail.6": (["cloudtrail_bucket_not_public"], None),
    "CloudTrail.7": (["cloudtrail_bucket_access_logging_enabled"], "3.4"),
    "Config.1": (["config_recorder_recording_all_resources"], "3.3"),
    "EC2.2": (["ec2_default_security_group_restricts_all"], "5.5"),
    "EC2.6": (["ec2_vpc_flow_logs_enabled"], "3.7"),
    "EC2.7": (["ec2_ebs_default_encryption_enabled"], "5.1.1"),
    "EC2.8": (["ec2_instance_imdsv2_required"], "5.7"),
    "EC2.21": (["ec2_network_acl_admin_ports_restricted"], "5.2"),
    "EFS.1": (["efs_file_system_encrypted"], "2.3.1"),
    "ELB.5": (["elbv2_load_balancer_access_logging"], None),
    "IAM.1": (["iam_customer_policy_no_full_admin_attached"], None),
    "IAM.2": (["iam_user_no_direct_policies"], "1.15"),
    "IAM.3": (["iam_user_access_keys_rotated_90_days"], "1.14"),
    "IAM.4": (["iam_root_no_access_key"], "1.4"),
    "IAM.5": (["iam_user_console_mfa_enabled"], "1.10"),
    "IAM.6": (["iam_root_hardware_mfa_enabled"], "1.6"),
    "IAM.9": (["iam_root_mfa_enabled"], "1.5"),
    "IAM.22": (["iam_user_unused_credentials_45_days"], "1.12"),
    "IAM.26": (["iam_server_certificate_not_expired"], "1.19"),
    "KMS.4": (["kms_key_rotation_enabled"], "3.6"),
    "KMS.5": (["kms_key_not_public"], None),
    "Lambda.1": (["lambda_function_not_public"], None),
    "RDS.2": (["rds_instance_not_publicly_accessible"], "2.2.3"),
    "RDS.3": (["rds_instance_storage_encrypted"], "2.2.1"),
    "RDS.5": (["rds_instance_multi_az"], None),
    "RDS.13": (["rds_instance_auto_minor_version_upgrade"], "2.2.2"),
    "RDS.15": (["rds_cluster_multi_az"], None),
    "S3.1": (["s3_account_public_access_blocked"], None),
    "S3.5": (["s3_bucket_secure_transport"], "2.1.1"),
    "S3.8": (["s3_bucket_public_access_blocked"], None),
    "S3.20": (["s3_bucket_mfa_delete_enabled"], "2.1.2"),
    "SNS.4": (["sns_topic_not_public"], None),
}

# Our text for decided controls whose CIS text covers more (or that no CIS version has).
# ref -> (resource types, description, rationale, console remediation).
OWN_TEXT: dict[str, tuple[list[str], str, str, str]] = {
    "APIGateway.9": (
        ["AWS::ApiGatewayV2::Stage"],
        "Each stage of an HTTP or WebSocket API (API Gateway v2) writes an access log: one line "
        "per request with the caller, the route, the status and the latency, sent to a "
        "CloudWatch Logs group or Firehose stream.",
        "Access logs are the only record of who called an API and what it answered. Without "
        "them, abuse of a public API or a leaked token is invisible until its effects show.",
        "API Gateway console > the API > Monitor > Logging > the stage > Edit: turn on access "
        "logging, choose a log group and a log format.",
    ),
    "CloudFront.5": (
        ["AWS::CloudFront::Distribution"],
        "Each CloudFront distribution has standard logging turned on, delivering a record of "
        "every viewer request to an S3 bucket (or a log destination).",
        "Distribution logs show who fetched what from the edge, from where, and what was "
        "answered: the evidence needed to investigate scraping, credential stuffing or data "
        "taken through a misconfigured origin.",
        "CloudFront console > the distribution > Logging (or General > Settings > Edit): turn "
        "on standard logging and choose the destination bucket or log delivery.",
    ),
    "CloudTrail.5": (
        ["AWS::CloudTrail::Trail"],
        "Each trail also delivers its events to a CloudWatch Logs log group, where metric "
        "filters and alarms can act on them within minutes.",
        "Events that only land in S3 are read after the fact. Delivered to CloudWatch Logs they "
        "can raise an alarm while an attack is under way: root sign-in, policy changes, "
        "disabled logging.",
        "CloudTrail console > Trails > the trail > CloudWatch Logs > Edit: turn it on, choose "
        "or create a log group and the IAM role CloudTrail uses to write to it.",
    ),
    "CloudTrail.6": (
        ["AWS::CloudTrail::Trail"],
        "The S3 bucket a trail writes its log files to is not readable by everyone: neither its "
        "ACL nor its bucket policy grants access to all users or all AWS accounts.",
        "CloudTrail logs describe the account in detail: who administers it, which resources "
        "exist, which calls fail. Public, they are a map for an attacker, and whoever can read "
        "them learns how to avoid being noticed.",
        "S3 console > the trail's bucket > Permissions: turn on Block Public Access, remove "
        "ACL grants to Everyone or Authenticated users, and remove policy statements whose "
        'principal is "*" without conditions.',
    ),
    "ELB.5": (
        ["AWS::ElasticLoadBalancingV2::LoadBalancer"],
        "Each Application Load Balancer writes access logs (one record per request: client, "
        "target, status, bytes, TLS details) to an S3 bucket. FSBP asks the same of Classic "
        "Load Balancers, which our scan does not read yet: only Application Load Balancers are "
        "evaluated under this control.",
        "Load balancer access logs are the record of every request that reached the "
        "application, including those it rejected; investigations and abuse reports need them.",
        "EC2 console > Load balancers > the load balancer > Attributes > Edit: turn on access "
        "logs and choose an S3 bucket whose policy lets Elastic Load Balancing write to it.",
    ),
    "IAM.1": (
        ["AWS::IAM::Policy"],
        "No customer managed IAM policy that is attached to a user, group or role has a "
        'statement allowing every action ("*") on every resource ("*"). Unattached '
        "customer managed policies are not evaluated by our check.",
        "Full administrative rights should be a deliberate exception held by few, audited "
        'roles. A customer policy granting "*:*" spreads them silently to whoever it is '
        "attached to, and a single leaked credential then controls the whole account.",
        'IAM console > Policies > filter Customer managed > the policy: replace the "*" '
        "statement with the actions and resources its holders need, or detach it.",
    ),
    "KMS.5": (
        ["AWS::KMS::Key"],
        'No customer managed KMS key has a key policy that lets everyone (a "*" principal '
        "without conditions that pin the caller to known accounts, organisations or networks) "
        "use or manage it.",
        "Whoever may use a key may decrypt everything encrypted under it. A public key policy "
        "turns encryption into a formality and may let anyone schedule the key's deletion.",
        'KMS console > Customer managed keys > the key > Key policy > Edit: replace the "*" '
        "principal with named accounts or roles, or add conditions such as aws:PrincipalOrgID.",
    ),
    "Lambda.1": (
        ["AWS::Lambda::Function"],
        "No Lambda function has a resource-based policy that lets everyone invoke or manage "
        'it (a "*" principal without conditions that pin the caller to a source account, ARN '
        "or organisation).",
        "A publicly invocable function runs with its own role on anyone's request: it may be "
        "used to run up cost, reach data the role can read, or probe the code for weaknesses.",
        "Lambda console > the function > Configuration > Permissions > Resource-based policy "
        "statements: delete the public statement, or add a source account or ARN condition.",
    ),
    "RDS.5": (
        ["AWS::RDS::DBInstance"],
        "Each RDS DB instance is a Multi-AZ deployment: a standby in another Availability Zone "
        "takes over when the primary's zone, host or storage fails.",
        "A single-AZ database stops with its zone and during some maintenance; with Multi-AZ "
        "the failover is automatic and usually takes a minute or two.",
        "RDS console > Databases > the instance > Modify > Availability and durability: choose "
        "a Multi-AZ deployment, and apply it in the next maintenance window or at once.",
    ),
    "RDS.15": (
        ["AWS::RDS::DBCluster"],
        "Each RDS DB cluster (Aurora, or Multi-AZ DB cluster) has instances in more than one "
        "Availability Zone, so a reader can be promoted when the writer's zone fails.",
        "A cluster whose instances share one zone stops with that zone; spread across zones it "
        "fails over automatically.",
        "RDS console > Databases > the cluster > Actions > Add reader: place the new reader in "
        "another Availability Zone.",
    ),
    "S3.1": (
        ["AWS::::Account"],
        "The account-level S3 Block Public Access settings are all on (block and ignore public "
        "ACLs, block and restrict public bucket policies), so no bucket of the account can be "
        "made public by an ACL or a policy.",
        "Public buckets are one of the commonest causes of data leaks. The account-level switch "
        "protects every bucket, including those created tomorrow by someone who forgot.",
        "S3 console > Block Public Access settings for this account > Edit: select all four "
        "settings and save.",
    ),
    "S3.8": (
        ["AWS::S3::Bucket"],
        "Each S3 bucket has all four of its own Block Public Access settings on (block and "
        "ignore public ACLs, block and restrict public bucket policies).",
        "Bucket-level settings keep a bucket private even if the account-level settings are "
        "relaxed later, and make the intent explicit on the bucket itself.",
        "S3 console > the bucket > Permissions > Block public access (bucket settings) > Edit: "
        "select all four settings and save.",
    ),
    "SNS.4": (
        ["AWS::SNS::Topic"],
        "No SNS topic has an access policy that lets everyone publish to, subscribe to or "
        'manage it (a "*" principal without conditions that pin the caller to known accounts, '
        "organisations or source ARNs).",
        "A public topic lets anyone send messages to every subscriber (phishing, false alerts) "
        "or subscribe to read what it carries.",
        'SNS console > Topics > the topic > Edit > Access policy: replace the "*" principal '
        "with named accounts or services, or add aws:SourceOwner / aws:SourceArn conditions.",
    ),
}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def build() -> dict:
    cis = {c["ref"]: c for c in json.loads(CIS.read_text(encoding="utf-8"))["controls"]}
    controls = []
    seen_sections: list[str] = []
    for line in TABLE.strip().splitlines():
        ref, severity, kind, title = line.split("|")
        prefix = ref.split(".")[0]
        service = SERVICES[prefix]
        if prefix not in seen_sections:
            seen_sections.append(prefix)
        rationale, console = KINDS[kind]
        entry = {
            "ref": ref,
            "title": title,
            "section": prefix,
            "level": None,
            "automated": True,
            "severity": severity,
            "service": service,
            "resource_types": [],
            "description": f"{ref} expects this of {service}: {_lower_first(title)}.",
            "rationale": rationale,
            "impact": "",
            "remediation_console": f"{service} console: {console}",
            "remediation_cli": "",
            "terraform": "",
            "references": [
                "https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html"
            ],
        }
        if ref in EVALUATED:
            checks, cis_ref = EVALUATED[ref]
            entry["checks"] = checks
            if cis_ref is not None:
                source = cis[cis_ref]
                for key in (
                    "resource_types",
                    "description",
                    "rationale",
                    "impact",
                    "remediation_console",
                    "remediation_cli",
                    "terraform",
                ):
                    entry[key] = source[key]
            else:
                types, description, why, steps = OWN_TEXT[ref]
                entry.update(
                    resource_types=types,
                    description=description,
                    rationale=why,
                    remediation_console=steps,
                )
        else:
            entry["evaluated"] = False
            entry["description"] += (
                " No check of ours decides it yet: review it in the service's console or in "
                "AWS Security Hub."
            )
        controls.append(entry)
    return {
        "benchmark": {
            "slug": "aws-fsbp",
            "name": "AWS Foundational Security Best Practices",
            "version": "1.0.0",
            "url": "https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html",
            "profile_levels": False,
            "not_evaluated_controls": True,
        },
        "sections": [
            {"ref": p, "title": SERVICES[p]} for p in sorted(seen_sections, key=str.lower)
        ],
        "controls": controls,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}")
