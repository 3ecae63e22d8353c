"""Every check is registered under the CIS AWS Foundations v2.0.0 control it implements, for
the collector whose data it reads, on the resource type its verdicts are about. A check filed
under the wrong control, service or type gives a right verdict in the wrong place."""

from __future__ import annotations

from findings.checks import REGISTRY

# check -> (controls, collector, resource type), as the benchmark numbers them.
EXPECTED: dict[str, tuple[tuple[str, ...], str, str]] = {
    "iam_root_no_access_key": (("1.4",), "iam", "AWS::::Account"),
    "iam_root_mfa_enabled": (("1.5",), "iam", "AWS::::Account"),
    "iam_root_hardware_mfa_enabled": (("1.6",), "iam", "AWS::::Account"),
    "iam_root_not_used_recently": (("1.7",), "iam", "AWS::::Account"),
    "iam_password_policy_min_length_14": (("1.8",), "iam", "AWS::::Account"),
    "iam_password_policy_reuse_24": (("1.9",), "iam", "AWS::::Account"),
    "iam_user_console_mfa_enabled": (("1.10",), "iam", "AWS::IAM::User"),
    "iam_user_no_access_key_at_setup": (("1.11",), "iam", "AWS::IAM::User"),
    "iam_user_unused_credentials_45_days": (("1.12",), "iam", "AWS::IAM::User"),
    "iam_user_one_active_access_key": (("1.13",), "iam", "AWS::IAM::User"),
    "iam_user_access_keys_rotated_90_days": (("1.14",), "iam", "AWS::IAM::User"),
    "iam_user_no_direct_policies": (("1.15",), "iam", "AWS::IAM::User"),
    "iam_customer_policy_no_full_admin_attached": (("1.16",), "iam", "AWS::IAM::Policy"),
    "iam_aws_policy_no_full_admin_attached": (("1.16",), "iam", "AWS::IAM::Policy"),
    "iam_support_role_exists": (("1.17",), "iam", "AWS::::Account"),
    "ec2_instance_uses_instance_profile": (("1.18",), "ec2", "AWS::EC2::Instance"),
    "iam_server_certificate_not_expired": (("1.19",), "iam", "AWS::IAM::ServerCertificate"),
    "accessanalyzer_enabled": (
        ("1.20",),
        "accessanalyzer",
        "AWS::AccessAnalyzer::RegionalSettings",
    ),
    "s3_bucket_secure_transport": (("2.1.1",), "s3", "AWS::S3::Bucket"),
    "s3_bucket_mfa_delete_enabled": (("2.1.2",), "s3", "AWS::S3::Bucket"),
    "s3_bucket_public_access_blocked": (("2.1.4",), "s3", "AWS::S3::Bucket"),
    "s3_account_public_access_blocked": (("2.1.4",), "s3", "AWS::::Account"),
    "ec2_ebs_default_encryption_enabled": (("2.2.1",), "ec2", "AWS::EC2::RegionalSettings"),
    "rds_instance_storage_encrypted": (("2.3.1",), "rds", "AWS::RDS::DBInstance"),
    "rds_instance_auto_minor_version_upgrade": (("2.3.2",), "rds", "AWS::RDS::DBInstance"),
    "rds_instance_not_publicly_accessible": (("2.3.3",), "rds", "AWS::RDS::DBInstance"),
    "efs_file_system_encrypted": (("2.4.1",), "efs", "AWS::EFS::FileSystem"),
    "cloudtrail_multi_region_trail_logging": (("3.1",), "cloudtrail", "AWS::::Account"),
    "cloudtrail_log_file_validation_enabled": (("3.2",), "cloudtrail", "AWS::CloudTrail::Trail"),
    "cloudtrail_bucket_not_public": (("3.3",), "cloudtrail", "AWS::CloudTrail::Trail"),
    "cloudtrail_cloudwatch_logs_delivering": (("3.4",), "cloudtrail", "AWS::CloudTrail::Trail"),
    "config_recorder_recording_all_resources": (
        ("3.5",),
        "config",
        "AWS::Config::RegionalSettings",
    ),
    "cloudtrail_bucket_access_logging_enabled": (("3.6",), "cloudtrail", "AWS::CloudTrail::Trail"),
    "cloudtrail_kms_encryption_enabled": (("3.7",), "cloudtrail", "AWS::CloudTrail::Trail"),
    "kms_key_rotation_enabled": (("3.8",), "kms", "AWS::KMS::Key"),
    "ec2_vpc_flow_logs_enabled": (("3.9",), "ec2", "AWS::EC2::VPC"),
    "cloudtrail_s3_write_data_events_logged": (("3.10",), "cloudtrail", "AWS::::Account"),
    "cloudtrail_s3_read_data_events_logged": (("3.11",), "cloudtrail", "AWS::::Account"),
    "monitoring_unauthorized_api_calls_alarmed": (("4.1",), "monitoring", "AWS::::Account"),
    "monitoring_console_signin_without_mfa_alarmed": (("4.2",), "monitoring", "AWS::::Account"),
    "monitoring_root_usage_alarmed": (("4.3",), "monitoring", "AWS::::Account"),
    "monitoring_iam_policy_changes_alarmed": (("4.4",), "monitoring", "AWS::::Account"),
    "monitoring_cloudtrail_changes_alarmed": (("4.5",), "monitoring", "AWS::::Account"),
    "monitoring_console_auth_failures_alarmed": (("4.6",), "monitoring", "AWS::::Account"),
    "monitoring_cmk_disable_or_deletion_alarmed": (("4.7",), "monitoring", "AWS::::Account"),
    "monitoring_s3_bucket_policy_changes_alarmed": (("4.8",), "monitoring", "AWS::::Account"),
    "monitoring_config_changes_alarmed": (("4.9",), "monitoring", "AWS::::Account"),
    "monitoring_security_group_changes_alarmed": (("4.10",), "monitoring", "AWS::::Account"),
    "monitoring_nacl_changes_alarmed": (("4.11",), "monitoring", "AWS::::Account"),
    "monitoring_network_gateway_changes_alarmed": (("4.12",), "monitoring", "AWS::::Account"),
    "monitoring_route_table_changes_alarmed": (("4.13",), "monitoring", "AWS::::Account"),
    "monitoring_vpc_changes_alarmed": (("4.14",), "monitoring", "AWS::::Account"),
    "monitoring_organizations_changes_alarmed": (("4.15",), "monitoring", "AWS::::Account"),
    "securityhub_hub_enabled": (("4.16",), "securityhub", "AWS::SecurityHub::RegionalSettings"),
    "ec2_network_acl_admin_ports_restricted": (("5.1",), "ec2", "AWS::EC2::NetworkAcl"),
    "ec2_security_group_admin_ports_ipv4_restricted": (("5.2",), "ec2", "AWS::EC2::SecurityGroup"),
    "ec2_security_group_admin_ports_ipv6_restricted": (("5.3",), "ec2", "AWS::EC2::SecurityGroup"),
    "ec2_default_security_group_restricts_all": (("5.4",), "ec2", "AWS::EC2::SecurityGroup"),
    "ec2_instance_imdsv2_required": (("5.6",), "ec2", "AWS::EC2::Instance"),
    # UDP to 22/3389: no v2.0.0 control (it names TCP only); the v3.0.0+ catalogs map them.
    "ec2_network_acl_admin_ports_udp_restricted": ((), "ec2", "AWS::EC2::NetworkAcl"),
    "ec2_security_group_admin_ports_ipv4_udp_restricted": ((), "ec2", "AWS::EC2::SecurityGroup"),
    "ec2_security_group_admin_ports_ipv6_udp_restricted": ((), "ec2", "AWS::EC2::SecurityGroup"),
    # Written ahead of the later benchmarks' catalogs: no control maps them yet, so a scan
    # neither evaluates them nor runs a collector only they read.
    "ec2_nacl_no_cifs_from_internet": ((), "ec2", "AWS::EC2::NetworkAcl"),
    "ec2_security_group_no_cifs_from_internet": ((), "ec2", "AWS::EC2::SecurityGroup"),
    "rds_instance_multi_az": ((), "rds", "AWS::RDS::DBInstance"),
    "rds_cluster_multi_az": ((), "rds_cluster", "AWS::RDS::DBCluster"),
    "elbv2_load_balancer_access_logging": (
        (),
        "elbv2",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ),
    "apigateway_rest_stage_access_logging": ((), "apigateway", "AWS::ApiGateway::Stage"),
    "apigatewayv2_stage_access_logging": ((), "apigateway", "AWS::ApiGatewayV2::Stage"),
    "cloudfront_distribution_logging_enabled": (
        (),
        "cloudfront",
        "AWS::CloudFront::Distribution",
    ),
    "organizations_delegated_administrators": ((), "organizations", "AWS::::Account"),
    "iam_root_credentials_management_enabled": ((), "organizations", "AWS::::Account"),
    # Written ahead of the catalogs that will map them (CIS v3+ and FSBP): no control yet.
    "lambda_function_not_public": ((), "lambda", "AWS::Lambda::Function"),
    "eventbridge_bus_not_public": ((), "events", "AWS::Events::EventBus"),
    "glacier_vault_policy_not_public": ((), "glacier", "AWS::Glacier::Vault"),
    "kms_key_not_public": ((), "kms_policy", "AWS::KMS::Key"),
    "s3_bucket_policy_no_public_write": ((), "s3", "AWS::S3::Bucket"),
    "secretsmanager_secret_not_public": ((), "secretsmanager", "AWS::SecretsManager::Secret"),
    "sns_topic_not_public": ((), "sns", "AWS::SNS::Topic"),
    "sqs_queue_not_public": ((), "sqs", "AWS::SQS::Queue"),
}


def test_every_check_is_registered_under_its_control() -> None:
    registered = {
        check_id: (spec.controls, spec.service, spec.resource_type)
        for check_id, spec in REGISTRY.items()
    }
    assert registered == EXPECTED


def test_every_check_is_of_the_benchmark_version_it_implements() -> None:
    assert {(spec.benchmark, spec.version) for spec in REGISTRY.values()} == {
        ("cis-aws-foundations", "2.0.0")
    }
