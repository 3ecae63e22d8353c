"""Fixes of the IAM user, policy and certificate checks (CIS v2.0.0 1.10, 1.12-1.16, 1.19).

Most of these change credentials Terraform does not hold: an MFA device needs two codes from
the device, access key ids are not in the credential report the scan reads, and Terraform can
only delete what it manages. Those fixes are filled-in CLI and console steps; 1.15 and 1.16 also
have Terraform for the part it can do.
"""

from __future__ import annotations

from typing import Any

from findings.remediation import hcl
from findings.remediation.builders import _import, _resource, builds
from findings.remediation.hcl import Attr, Block, Comment, Raw
from findings.remediation.model import Remedy, Target, Variable, shell

USER = "AWS::IAM::User"
_NOT_TERRAFORM_KEYS = (
    "Access keys are changed by their id, which the credential report the scan reads does not "
    "give, and Terraform can only deactivate keys it manages: use the CLI."
)


def _shown(value: object) -> str:
    """A cloud value in a comment: one line, whatever it holds."""
    return hcl.comment_text(str(value), 80)


def _note(text: str) -> str:
    """A ``#`` line of a CLI step holding cloud values: one line whatever they hold."""
    return "# " + hcl.comment_text(text, 400)


def _user(target: Target) -> str:
    return str(target.configuration.get("user_name") or target.name or target.aws_id)


def _credentials(target: Target) -> dict[str, Any]:
    return dict(target.configuration.get("credentials") or {})


def _active_keys_query() -> str:
    return "sort_by(AccessKeyMetadata[?Status=='Active'], &CreateDate)"


def _list_keys(user: str, select: str) -> str:
    """``aws iam list-access-keys`` printing the ids ``select`` picks from the user's active
    keys, oldest first."""
    query = _active_keys_query() + select
    return shell(
        "aws", "iam", "list-access-keys", "--user-name", user, "--query", query, "--output", "text"
    )


@builds("iam_user_console_mfa_enabled")
def user_mfa(target: Target) -> Remedy | None:
    if target.resource_type != USER:
        return None
    user = _user(target)
    serial = target.arn_of("iam", f"mfa/{user}", account=target.account_id)
    return Remedy(
        "iam_user_console_mfa_enabled",
        f"MFA for IAM user {user}",
        target,
        manual_reason=(
            "Enabling an MFA device needs two consecutive codes from the device itself, which "
            "Terraform cannot give; the user (or an administrator holding the device) does it."
        ),
        console=[
            f"Sign in as {user} (or as an administrator), open IAM › Users › {user} › "
            "Security credentials › Multi-factor authentication (MFA) › Assign MFA device.",
            "Pick a passkey, security key or authenticator app and follow the steps.",
            "If the user does not need the console at all, delete its console password instead"
            " (the CLI's delete-login-profile below).",
        ],
        cli=[
            "# A virtual device; scan the QR code in the PNG with the authenticator app.",
            shell(
                "aws",
                "iam",
                "create-virtual-mfa-device",
                "--virtual-mfa-device-name",
                user,
                "--outfile",
                f"{user}-mfa.png",
                "--bootstrap-method",
                "QRCodePNG",
            ),
            "# Then two consecutive codes the app shows, as CODE1 and CODE2:",
            shell("aws", "iam", "enable-mfa-device", "--user-name", user, "--serial-number", serial)
            + ' --authentication-code1 "$CODE1" --authentication-code2 "$CODE2"',
            "# Or, when the user needs no console access:",
            shell("aws", "iam", "delete-login-profile", "--user-name", user),
        ],
    )


def _key_lines(target: Target) -> list[str]:
    creds = _credentials(target)
    lines = []
    for number in (1, 2):
        if str(creds.get(f"access_key_{number}_active", "")).lower() == "true":
            created = creds.get(f"access_key_{number}_last_rotated")
            used = creds.get(f"access_key_{number}_last_used_date") or "N/A"
            lines.append(_note(f"Access key {number}: created {created}, last used {used}."))
    return lines


@builds("iam_user_unused_credentials_45_days")
def unused_credentials(target: Target) -> Remedy | None:
    if target.resource_type != USER:
        return None
    user = _user(target)
    creds = _credentials(target)
    cli: list[str] = []
    if str(creds.get("password_enabled", "")).lower() == "true":
        cli += [
            _note(
                f"Console password: set {creds.get('password_last_changed') or 'N/A'}, last used "
                f"{creds.get('password_last_used') or 'N/A'}."
                " Unused for 45 days or more: remove it."
            ),
            shell("aws", "iam", "delete-login-profile", "--user-name", user),
        ]
    cli += _key_lines(target)
    cli += [
        "# Each active key with its last use; deactivate each one unused for 45 days or more"
        " (UNUSED_KEY_ID: its id, from this list):",
        f"for key in $({_list_keys(user, '[].AccessKeyId')}); do",
        '  echo "$key $(aws iam get-access-key-last-used --access-key-id "$key"'
        ' --query AccessKeyLastUsed.LastUsedDate --output text)"',
        "done",
        shell("aws", "iam", "update-access-key", "--user-name", user, "--status", "Inactive")
        + ' --access-key-id "$UNUSED_KEY_ID"',
    ]
    return Remedy(
        "iam_user_unused_credentials_45_days",
        f"disable credentials of {user} unused for 45 days",
        target,
        manual_reason=_NOT_TERRAFORM_KEYS,
        cli=cli,
    )


@builds("iam_user_one_active_access_key")
def one_active_key(target: Target) -> Remedy | None:
    if target.resource_type != USER:
        return None
    user = _user(target)
    cli = [
        *_key_lines(target),
        "# Deactivate every active key but the newest (check first with get-access-key-last-used"
        " that the newest is the one in use):",
        f"for key in $({_list_keys(user, '[:-1].AccessKeyId')}); do",
        "  "
        + shell("aws", "iam", "update-access-key", "--user-name", user, "--status", "Inactive")
        + ' --access-key-id "$key"',
        "done",
    ]
    return Remedy(
        "iam_user_one_active_access_key",
        f"one active access key for {user}",
        target,
        manual_reason=_NOT_TERRAFORM_KEYS,
        cli=cli,
    )


@builds("iam_user_access_keys_rotated_90_days")
def rotate_keys(target: Target) -> Remedy | None:
    if target.resource_type != USER:
        return None
    user = _user(target)
    oldest = shell(
        "aws",
        "iam",
        "list-access-keys",
        "--user-name",
        user,
        "--query",
        _active_keys_query() + "[0].AccessKeyId",
        "--output",
        "text",
    )
    cli = [
        *_key_lines(target),
        "# 1. A new key (its secret is shown once: put it where the application reads it).",
        shell("aws", "iam", "create-access-key", "--user-name", user),
        "# 2. Once the application uses the new key, deactivate the oldest active one:",
        shell("aws", "iam", "update-access-key", "--user-name", user, "--status", "Inactive")
        + f' --access-key-id "$({oldest})"',
        "# 3. After a quiet week, delete the inactive key:",
        shell(
            "aws",
            "iam",
            "list-access-keys",
            "--user-name",
            user,
            "--query",
            "AccessKeyMetadata[?Status=='Inactive'].AccessKeyId",
            "--output",
            "text",
        ),
    ]
    return Remedy(
        "iam_user_access_keys_rotated_90_days",
        f"rotate the access keys of {user}",
        target,
        manual_reason=_NOT_TERRAFORM_KEYS,
        cli=cli,
    )


@builds("iam_user_no_direct_policies")
def permissions_through_groups(target: Target) -> Remedy | None:
    if target.resource_type != USER:
        return None
    config = target.configuration
    user = _user(target)
    group_name = f"{user}-permissions"[:128]
    group = hcl.label("user_group", user)
    attached = [str(arn) for arn in config.get("attached_policies") or []]
    inline = [str(name) for name in config.get("inline_policies") or []]
    blocks: list[Any] = [
        Comment(
            f"User {_shown(user)}: its policies move to group {_shown(group_name)}, the user "
            "joins it. "
            "Then detach them from the user (CLI below)."
        ),
        _resource(
            "aws_iam_group",
            group,
            [Attr("name", group_name), Attr("path", str(config.get("path") or "/"))],
        ),
    ]
    blocks += [
        _resource(
            "aws_iam_group_policy_attachment",
            hcl.label("user_group_policy", user, arn),
            [Attr("group", Raw(f"aws_iam_group.{group}.name")), Attr("policy_arn", arn)],
        )
        for arn in attached
    ]
    blocks.append(
        _resource(
            "aws_iam_user_group_membership",
            hcl.label("user_groups", user),
            [Attr("user", user), Attr("groups", Raw(f"[aws_iam_group.{group}.name]"))],
        )
    )
    cli = ["# After the apply: the user keeps its access through the group."]
    cli += [
        shell("aws", "iam", "detach-user-policy", "--user-name", user, "--policy-arn", arn)
        for arn in attached
    ]
    for name in inline:
        cli += [
            f"# Inline policy {hcl.comment_text(name, 80)}: copied to the group, then deleted.",
            shell(
                "aws",
                "iam",
                "get-user-policy",
                "--user-name",
                user,
                "--policy-name",
                name,
                "--query",
                "PolicyDocument",
                "--output",
                "json",
            )
            + " > user-policy.json",
            shell(
                "aws",
                "iam",
                "put-group-policy",
                "--group-name",
                group_name,
                "--policy-name",
                name,
                "--policy-document",
                "file://user-policy.json",
            ),
            shell("aws", "iam", "delete-user-policy", "--user-name", user, "--policy-name", name),
        ]
    return Remedy(
        "iam_user_no_direct_policies",
        f"permissions of {user} through a group",
        target,
        blocks,
        manual_reason=(
            "Terraform cannot detach a policy it did not attach (removing it would need the "
            "attachment imported first): the CLI detaches them after the apply."
        ),
        cli=cli,
    )


@builds("iam_customer_policy_no_full_admin_attached", "iam_aws_policy_no_full_admin_attached")
def no_full_admin_policy(target: Target) -> Remedy | None:
    if target.resource_type != "AWS::IAM::Policy":
        return None
    config = target.configuration
    arn = target.arn
    policy_name = str(config.get("policy_name") or target.name)
    detach = []
    for kind, query in (
        ("user", "PolicyUsers[].UserName"),
        ("group", "PolicyGroups[].GroupName"),
        ("role", "PolicyRoles[].RoleName"),
    ):
        entities = shell(
            "aws",
            "iam",
            "list-entities-for-policy",
            "--policy-arn",
            arn,
            "--query",
            query,
            "--output",
            "text",
        )
        detach += [
            f"for name in $({entities}); do",
            "  "
            + shell("aws", "iam", f"detach-{kind}-policy", "--policy-arn", arn)
            + f' --{kind}-name "$name"',
            "done",
        ]
    cli = [
        "# Give each user, group and role below a least-privilege policy first; keep a"
        " break-glass administrator.",
        shell("aws", "iam", "list-entities-for-policy", "--policy-arn", arn),
        *detach,
    ]
    if config.get("managed_by") != "customer":
        return Remedy(
            "iam_aws_policy_no_full_admin_attached",
            f"detach the full-admin AWS managed policy {policy_name}",
            target,
            manual_reason="AWS managed policies cannot be changed: detach it from every entity.",
            cli=cli,
        )
    name = hcl.label("policy", arn)
    variable = Variable(
        f"{name}_document",
        f"The least-privilege JSON policy document replacing policy "
        f'{hcl.comment_text(policy_name, 80)}\'s full "*:*" administrative access.',
        ("can(jsondecode(var." + f"{name}_document))", "Must be a JSON policy document."),
    )
    blocks: list[Any] = [
        Comment(
            f"Customer managed policy {_shown(policy_name)}: a least-privilege default version."
        ),
        _import("aws_iam_policy", name, arn),
        _resource(
            "aws_iam_policy",
            name,
            [
                Attr("name", policy_name),
                Attr("path", str(config.get("path") or "/")),
                Attr("policy", Raw(f"var.{name}_document"), fix=True),
                Comment("Description and tags are left as they are."),
                Block("lifecycle", body=[Attr("ignore_changes", Raw("[description, tags]"))]),
            ],
        ),
    ]
    return Remedy(
        "iam_customer_policy_no_full_admin_attached",
        f"replace the full-admin access of policy {policy_name}",
        target,
        blocks,
        [variable],
        cli=["# Or detach it from everything it is attached to:", *cli[1:]],
    )


@builds("iam_server_certificate_not_expired")
def expired_certificate(target: Target) -> Remedy | None:
    if target.resource_type != "AWS::IAM::ServerCertificate":
        return None
    name = target.name or target.aws_id
    expiration = target.configuration.get("expiration")
    return Remedy(
        "iam_server_certificate_not_expired",
        f"delete the expired server certificate {name}",
        target,
        manual_reason=(
            "Terraform can only delete a certificate it manages; an expired one is deleted "
            "with the CLI (nothing should still use it)."
        ),
        cli=[
            _note(
                f"Expired on {expiration}. Check that no load balancer or CloudFront distribution"
                " still uses it (get-server-certificate shows its ARN to search for)."
            ),
            shell(
                "aws",
                "iam",
                "get-server-certificate",
                "--server-certificate-name",
                name,
                "--query",
                "ServerCertificate.ServerCertificateMetadata",
            ),
            shell("aws", "iam", "delete-server-certificate", "--server-certificate-name", name),
        ],
    )


@builds("iam_user_no_access_key_at_setup")
def setup_keys(target: Target) -> Remedy | None:
    """Keys made with a console user and never used: deactivate them (then delete them once
    nothing complains); a key the user needs is made when they need it."""
    if target.resource_type != USER:
        return None
    user = _user(target)
    used = shell(
        "aws",
        "iam",
        "get-access-key-last-used",
        "--query",
        "AccessKeyLastUsed.LastUsedDate",
        "--output",
        "text",
    )
    cli = [
        *_key_lines(target),
        "# Deactivate each active key that was never used (None), then delete it once nothing"
        " breaks:",
        f"for key in $({_list_keys(user, '[].AccessKeyId')}); do",
        f'  if [ "$({used} --access-key-id "$key")" = "None" ]; then',
        "    "
        + shell("aws", "iam", "update-access-key", "--user-name", user, "--status", "Inactive")
        + ' --access-key-id "$key"',
        "  fi",
        "done",
    ]
    return Remedy(
        "iam_user_no_access_key_at_setup",
        f"no unused access key made at setup for {user}",
        target,
        manual_reason=_NOT_TERRAFORM_KEYS,
        cli=cli,
    )
