"""CIS AWS Foundations v2.0.0 section 1 (IAM) checks on the ``iam`` collector's data.

Sources, as the benchmark's audit procedures use them:

* the credential report (one row per user, plus ``<root_account>``): password, MFA and access
  key state with their dates. Values that are not dates: ``N/A`` (no such credential, or a key
  never used), ``no_information`` (a password never used, or not since IAM began tracking in
  October 2014), ``not_supported`` (the field does not apply);
* the account summary (``AccountMFAEnabled``, ``AccountAccessKeysPresent``) for the root user;
* the assigned virtual MFA devices (serial and user ARN), to tell a root MFA that is virtual;
* the password policy (``None`` when none is set);
* users, groups, roles and managed policies from GetAccountAuthorizationDetails, and the AWS
  managed policies in use;
* the server certificates, and the entities AWSSupportAccess is attached to.

Time-based checks measure ages against ``data["collected_at"]``, when the collector ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.toolbox import as_list as _as_list
from findings.toolbox import root_virtual_mfa_devices

ROOT_USER = "<root_account>"
MIN_PASSWORD_LENGTH = 14
PASSWORD_REUSE_PREVENTION = 24
UNUSED_CREDENTIAL_DAYS = 45
ACCESS_KEY_MAX_AGE_DAYS = 90
#: 1.7: root use this recent (password or access key, by ``collected_at``) fails. CIS asks that
#: the root user is not used for administrative and daily tasks; a few tasks only root can do
#: (closing the account, changing its support plan, ...) leave a finding a team can accept.
ROOT_RECENT_USE_DAYS = 30
#: Credential report values that are not dates.
NOT_A_DATE = frozenset({"", "N/A", "no_information", "not_supported"})
#: Action values that grant every action. "*:*" is how the benchmark writes it.
ALL_ACTIONS = frozenset({"*", "*:*"})


# --------------------------------------------------------------------------- helpers


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware datetime; None for the report's non-date values."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text in NOT_A_DATE:
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def collected_at(data: Mapping[str, Any]) -> dt.datetime:
    now = parse_time(data["collected_at"])
    if now is None:
        raise ValueError("data has no collected_at time")
    return now


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _day(moment: dt.datetime) -> str:
    return moment.date().isoformat()


def _days(age: dt.timedelta) -> int:
    return age.days


def _report_rows(data: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    """Credential report rows of IAM users by ARN (the root row excluded)."""
    rows = data.get("credential_report", {}).get("rows", [])
    return {row["arn"]: row for row in rows if row.get("user") != ROOT_USER}


def _root_row(data: Mapping[str, Any]) -> Mapping[str, str] | None:
    rows = data.get("credential_report", {}).get("rows", [])
    return next((row for row in rows if row.get("user") == ROOT_USER), None)


def _users_with_rows(
    data: Mapping[str, Any],
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, str]]]:
    """Each current user with its credential report row.

    A user created after the report was generated has no row yet (AWS reuses a report for up to
    four hours) and cannot be judged on it; a row of a user deleted since then has no user.
    """
    rows = _report_rows(data)
    for user in data.get("users", []):
        row = rows.get(user["Arn"])
        if row is not None:
            yield user, row


def _active_keys(row: Mapping[str, str]) -> list[dict[str, Any]]:
    """The user's active access keys from the report: number, creation and last use."""
    keys = []
    for number in (1, 2):
        prefix = f"access_key_{number}_"
        if _true(row.get(prefix + "active")):
            keys.append(
                {
                    "key": number,
                    "last_rotated": row.get(prefix + "last_rotated", ""),
                    "last_used_date": row.get(prefix + "last_used_date", ""),
                }
            )
    return keys


def full_admin_statements(document: Any) -> list[dict[str, Any]]:
    """Statements with ``"Effect": "Allow"``, ``"Action": "*"`` and ``"Resource": "*"``.

    ``Statement`` may be one statement or a list; ``Action`` and ``Resource`` a string or a
    list (a list that contains ``"*"`` allows everything). ``NotAction`` statements are not
    "Action": "*" and are left to human review, as in the benchmark's audit.
    """
    if not isinstance(document, Mapping):
        return []
    found = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = {str(action) for action in _as_list(statement.get("Action"))}
        resources = {str(resource) for resource in _as_list(statement.get("Resource"))}
        if actions & ALL_ACTIONS and "*" in resources:
            found.append(dict(statement))
    return found


def _attachments(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each managed policy ARN, the users, groups and roles it is attached to."""
    attached: dict[str, list[str]] = {}
    for kind, key, name_key in (
        ("user", "users", "UserName"),
        ("group", "groups", "GroupName"),
        ("role", "roles", "RoleName"),
    ):
        for entity in data.get(key, []):
            for policy in entity.get("AttachedManagedPolicies", []):
                attached.setdefault(policy["PolicyArn"], []).append(f"{kind} {entity[name_key]}")
    return attached


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


# --------------------------------------------------------------------------- root user


@check(
    "iam_root_no_access_key",
    controls=["1.4"],
    service="iam",
    resource_type="AWS::::Account",
    title="The root user has no access key",
)
def iam_root_no_access_key(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    reported = data["account_summary"].get("AccountAccessKeysPresent")
    present = int(reported or 0)
    row = _root_row(data)
    active = [key["key"] for key in _active_keys(row)] if row else []
    details: dict[str, Any] = {"AccountAccessKeysPresent": reported}
    if row is not None:
        details["credential_report"] = {
            "access_key_1_active": row.get("access_key_1_active", ""),
            "access_key_2_active": row.get("access_key_2_active", ""),
        }
    if present:
        summary = (
            f"The root user has an access key (the account summary's AccountAccessKeysPresent "
            f"is {present})."
        )
    elif active:
        summary = (
            "The credential report shows root access key "
            + " and ".join(str(n) for n in active)
            + " active."
        )
    elif reported is None and row is None:
        # Neither source says: an account summary without the key proves nothing (as in 1.5).
        summary = (
            "Neither the account summary (no AccountAccessKeysPresent) nor the credential "
            "report (no root row) shows whether the root user has an access key."
        )
        yield spec.result(unit.account_arn, False, summary, details)
        return
    else:
        summary = "The root user has no access key (AccountAccessKeysPresent is 0)."
    yield spec.result(unit.account_arn, not present and not active, summary, details)


@check(
    "iam_root_mfa_enabled",
    controls=["1.5"],
    service="iam",
    resource_type="AWS::::Account",
    title="MFA is enabled for the root user",
)
def iam_root_mfa_enabled(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
    enabled = int(data["account_summary"].get("AccountMFAEnabled", 0))
    row = _root_row(data)
    details: dict[str, Any] = {"AccountMFAEnabled": enabled}
    if row is not None:
        details["credential_report"] = {"mfa_active": row.get("mfa_active", "")}
    if enabled == 1:
        summary = "MFA is enabled for the root user (AccountMFAEnabled is 1)."
    else:
        summary = f"MFA is not enabled for the root user (AccountMFAEnabled is {enabled})."
    yield spec.result(unit.account_arn, enabled == 1, summary, details)


@check(
    "iam_root_hardware_mfa_enabled",
    controls=["1.6"],
    service="iam",
    resource_type="AWS::::Account",
    title="The root user's MFA is a hardware device",
)
def iam_root_hardware_mfa_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """AccountMFAEnabled says the root user has MFA; no virtual device assigned to the root
    user says it is not virtual, so it is a hardware one (a FIDO security key or a hardware
    TOTP token): the benchmark's audit, read from the APIs."""
    enabled = int(data["account_summary"].get("AccountMFAEnabled", 0))
    # A KeyError without the list: no listing must never read as "no virtual device".
    virtual = [
        {"SerialNumber": device["SerialNumber"], "EnableDate": device.get("EnableDate")}
        for device in root_virtual_mfa_devices(data["virtual_mfa_devices"], unit)
    ]
    details: dict[str, Any] = {"AccountMFAEnabled": enabled, "root_virtual_mfa_devices": virtual}
    if enabled != 1:
        summary = (
            f"The root user has no MFA at all (AccountMFAEnabled is {enabled}), so no hardware MFA."
        )
    elif virtual:
        summary = (
            "The root user's MFA includes a virtual device ("
            + ", ".join(device["SerialNumber"] for device in virtual)
            + "), not only hardware."
        )
    else:
        summary = (
            "MFA is enabled for the root user and no virtual MFA device is assigned to it: "
            "its MFA is a hardware device."
        )
    yield spec.result(unit.account_arn, enabled == 1 and not virtual, summary, details)


ROOT_USE_FIELDS = (
    ("password_last_used", "console password"),
    ("access_key_1_last_used_date", "access key 1"),
    ("access_key_2_last_used_date", "access key 2"),
)


@check(
    "iam_root_not_used_recently",
    controls=["1.7"],
    service="iam",
    resource_type="AWS::::Account",
    title=f"The root user was not used in the last {ROOT_RECENT_USE_DAYS} days",
)
def iam_root_not_used_recently(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    row = _root_row(data)
    if row is None:
        # AWS always writes a root row; without it, root use cannot be told (as in 1.4).
        yield spec.result(
            unit.account_arn,
            False,
            "The credential report has no root row, so whether the root user was used "
            f"in the last {ROOT_RECENT_USE_DAYS} days cannot be told.",
            {"credential_report": None},
        )
        return
    now = collected_at(data)
    limit = dt.timedelta(days=ROOT_RECENT_USE_DAYS)
    details: dict[str, Any] = {"collected_at": data["collected_at"]}
    recent = []
    for field, what in ROOT_USE_FIELDS:
        details[field] = row.get(field, "")
        # "N/A" (no such credential, or a key never used) and "no_information" are no use.
        used = parse_time(row.get(field))
        if used is not None and now - used <= limit:
            recent.append(f"{what} on {_day(used)} ({_days(now - used)} days ago)")
    if recent:
        summary = (
            f"The root user was used in the last {ROOT_RECENT_USE_DAYS} days: "
            + "; ".join(recent)
            + "."
        )
    else:
        summary = (
            f"The root user was not used in the last {ROOT_RECENT_USE_DAYS} days "
            "(console password and access keys)."
        )
    yield spec.result(unit.account_arn, not recent, summary, details)


# --------------------------------------------------------------------------- password policy


@check(
    "iam_password_policy_min_length_14",
    controls=["1.8"],
    service="iam",
    resource_type="AWS::::Account",
    title="The IAM password policy requires at least 14 characters",
)
def iam_password_policy_min_length_14(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    policy = data.get("password_policy")
    if policy is None:
        yield spec.result(
            unit.account_arn,
            False,
            "No IAM password policy is set, so IAM's default minimum length of 8 characters "
            f"applies; at least {MIN_PASSWORD_LENGTH} is required.",
            {"password_policy": None},
        )
        return
    length = policy.get("MinimumPasswordLength")
    details = {"MinimumPasswordLength": length}
    if length is not None and int(length) >= MIN_PASSWORD_LENGTH:
        summary = f"The password policy requires at least {length} characters."
        passed = True
    else:
        summary = (
            f"The password policy requires only {length} characters; "
            f"at least {MIN_PASSWORD_LENGTH} are required."
        )
        passed = False
    yield spec.result(unit.account_arn, passed, summary, details)


@check(
    "iam_password_policy_reuse_24",
    controls=["1.9"],
    service="iam",
    resource_type="AWS::::Account",
    title="The IAM password policy prevents reuse of the last 24 passwords",
)
def iam_password_policy_reuse_24(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    policy = data.get("password_policy")
    if policy is None:
        yield spec.result(
            unit.account_arn,
            False,
            "No IAM password policy is set, so password reuse is not prevented.",
            {"password_policy": None},
        )
        return
    remembered = policy.get("PasswordReusePrevention")
    details = {"PasswordReusePrevention": remembered}
    if remembered is None:
        summary = "The password policy does not prevent password reuse."
        passed = False
    elif int(remembered) >= PASSWORD_REUSE_PREVENTION:
        summary = f"The password policy prevents reuse of the last {remembered} passwords."
        passed = True
    else:
        summary = (
            f"The password policy prevents reuse of only the last {remembered} passwords; "
            f"{PASSWORD_REUSE_PREVENTION} are required."
        )
        passed = False
    yield spec.result(unit.account_arn, passed, summary, details)


# --------------------------------------------------------------------------- users


@check(
    "iam_user_console_mfa_enabled",
    controls=["1.10"],
    service="iam",
    resource_type="AWS::IAM::User",
    title="Every IAM user with a console password has MFA enabled",
)
def iam_user_console_mfa_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for user, row in _users_with_rows(data):
        name = user["UserName"]
        details = {
            "password_enabled": row.get("password_enabled", ""),
            "mfa_active": row.get("mfa_active", ""),
        }
        if not _true(row.get("password_enabled")):
            yield spec.result(
                user["Arn"],
                True,
                f"User {name} has no console password, so console MFA does not apply.",
                details,
            )
        elif _true(row.get("mfa_active")):
            yield spec.result(
                user["Arn"], True, f"User {name} has a console password and MFA enabled.", details
            )
        else:
            yield spec.result(
                user["Arn"],
                False,
                f"User {name} has a console password and no MFA device.",
                details,
            )


def _key_created(key: Mapping[str, Any]) -> str:
    created = parse_time(key["last_rotated"])
    when = f"created on {_day(created)}" if created else "with no creation date"
    return f"access key {key['key']} {when}"


@check(
    "iam_user_no_access_key_at_setup",
    controls=["1.11"],
    service="iam",
    resource_type="AWS::IAM::User",
    title="No IAM user with a console password has an active access key never used",
)
def iam_user_no_access_key_at_setup(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """The benchmark's audit: a console user whose active key was never used most likely got
    it at setup, "just in case", rather than because a program needs it."""
    for user, row in _users_with_rows(data):
        name = user["UserName"]
        if not _true(row.get("password_enabled")):
            yield spec.result(
                user["Arn"],
                True,
                f"User {name} has no console password, so this does not apply.",
                {"password_enabled": row.get("password_enabled", "")},
            )
            continue
        active = _active_keys(row)
        unused = [key for key in active if parse_time(key["last_used_date"]) is None]
        details = {
            "user_creation_time": row.get("user_creation_time", ""),
            "active_access_keys": active,
        }
        if unused:
            summary = (
                f"User {name} has a console password and an active access key never used: "
                + "; ".join(_key_created(key) for key in unused)
                + "."
            )
        elif active:
            summary = f"User {name}'s active access keys have all been used."
        else:
            summary = f"User {name} has a console password and no active access key."
        yield spec.result(user["Arn"], not unused, summary, details)


def _password_idle(
    row: Mapping[str, str], now: dt.datetime
) -> tuple[dt.timedelta, str, dict[str, str]] | None:
    """How long the console password has been unused, with a description; None without one.

    Never used (``no_information``): counted from when it was set (``password_last_changed``),
    or from the user's creation when the report has no such date.
    """
    if not _true(row.get("password_enabled")):
        return None
    fields = {
        key: row.get(key, "")
        for key in ("password_last_used", "password_last_changed", "user_creation_time")
    }
    last_used = parse_time(row.get("password_last_used"))
    if last_used is not None:
        return now - last_used, f"console password last used on {_day(last_used)}", fields
    since = parse_time(row.get("password_last_changed"))
    what = "it was set"
    if since is None:
        since = parse_time(row.get("user_creation_time"))
        what = "the user was created"
    if since is None:
        raise ValueError(f"credential report row of {row.get('user')} has no usable date")
    return now - since, f"console password never used since {what} on {_day(since)}", fields


def _key_idle(key: Mapping[str, Any], now: dt.datetime) -> tuple[dt.timedelta, str]:
    """How long an active access key has been unused; never used counts from its creation."""
    last_used = parse_time(key["last_used_date"])
    if last_used is not None:
        return now - last_used, f"access key {key['key']} last used on {_day(last_used)}"
    created = parse_time(key["last_rotated"])
    if created is None:
        raise ValueError(f"access key {key['key']} has no creation date")
    return (
        now - created,
        f"access key {key['key']} never used since its creation on {_day(created)}",
    )


@check(
    "iam_user_unused_credentials_45_days",
    controls=["1.12"],
    service="iam",
    resource_type="AWS::IAM::User",
    title="IAM user credentials unused for 45 days or more are disabled",
)
def iam_user_unused_credentials_45_days(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    now = collected_at(data)
    limit = dt.timedelta(days=UNUSED_CREDENTIAL_DAYS)
    for user, row in _users_with_rows(data):
        name = user["UserName"]
        checked: list[dict[str, Any]] = []
        described: list[str] = []
        stale: list[str] = []
        password = _password_idle(row, now)
        if password is not None:
            idle, what, fields = password
            checked.append({"credential": "console password", "idle_days": _days(idle), **fields})
            described.append(f"{what} ({_days(idle)} days ago)")
            if idle >= limit:
                stale.append(described[-1])
        for key in _active_keys(row):
            idle, what = _key_idle(key, now)
            checked.append(
                {
                    "credential": f"access key {key['key']}",
                    "idle_days": _days(idle),
                    f"access_key_{key['key']}_last_used_date": key["last_used_date"],
                    f"access_key_{key['key']}_last_rotated": key["last_rotated"],
                }
            )
            described.append(f"{what} ({_days(idle)} days ago)")
            if idle >= limit:
                stale.append(described[-1])
        details = {"collected_at": data["collected_at"], "credentials": checked}
        if stale:
            summary = (
                f"User {name} has credentials unused for {UNUSED_CREDENTIAL_DAYS} days or more "
                "that are still enabled: " + "; ".join(stale) + "."
            )
        elif checked:
            summary = (
                f"None of user {name}'s enabled credentials has gone unused for "
                f"{UNUSED_CREDENTIAL_DAYS} days: " + "; ".join(described) + "."
            )
        else:
            summary = f"User {name} has no console password and no active access key."
        yield spec.result(user["Arn"], not stale, summary, details)


@check(
    "iam_user_one_active_access_key",
    controls=["1.13"],
    service="iam",
    resource_type="AWS::IAM::User",
    title="No IAM user has more than one active access key",
)
def iam_user_one_active_access_key(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for user, row in _users_with_rows(data):
        active = _active_keys(row)
        details = {
            "access_key_1_active": row.get("access_key_1_active", ""),
            "access_key_2_active": row.get("access_key_2_active", ""),
        }
        yield spec.result(
            user["Arn"],
            len(active) <= 1,
            f"User {user['UserName']} has {_plural(len(active), 'active access key')}.",
            details,
        )


@check(
    "iam_user_access_keys_rotated_90_days",
    controls=["1.14"],
    service="iam",
    resource_type="AWS::IAM::User",
    title="Active access keys are rotated every 90 days or less",
)
def iam_user_access_keys_rotated_90_days(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    now = collected_at(data)
    limit = dt.timedelta(days=ACCESS_KEY_MAX_AGE_DAYS)
    for user, row in _users_with_rows(data):
        name = user["UserName"]
        keys = []
        old = []
        for key in _active_keys(row):
            created = parse_time(key["last_rotated"])
            if created is None:
                raise ValueError(f"active access key {key['key']} of {name} has no creation date")
            age = now - created
            keys.append(
                {
                    "key": key["key"],
                    "last_rotated": key["last_rotated"],
                    "age_days": _days(age),
                }
            )
            if age > limit:
                old.append(
                    f"access key {key['key']} created on {_day(created)}, {age.days} days ago"
                )
        details = {"collected_at": data["collected_at"], "active_access_keys": keys}
        if old:
            summary = (
                f"User {name} has active access keys older than {ACCESS_KEY_MAX_AGE_DAYS} days: "
                + "; ".join(old)
                + "."
            )
        elif keys:
            summary = (
                f"User {name}'s active access keys are at most {ACCESS_KEY_MAX_AGE_DAYS} days old."
            )
        else:
            summary = f"User {name} has no active access key."
        yield spec.result(user["Arn"], not old, summary, details)


@check(
    "iam_user_no_direct_policies",
    controls=["1.15"],
    service="iam",
    resource_type="AWS::IAM::User",
    title="IAM users receive permissions only through groups",
)
def iam_user_no_direct_policies(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for user in data.get("users", []):
        name = user["UserName"]
        attached = user.get("AttachedManagedPolicies", [])
        inline = user.get("UserPolicyList", [])
        details = {
            "attached_policies": [p["PolicyArn"] for p in attached],
            "inline_policies": [p["PolicyName"] for p in inline],
            "groups": list(user.get("GroupList", [])),
        }
        parts = []
        if attached:
            parts.append("attached " + ", ".join(p["PolicyName"] for p in attached))
        if inline:
            parts.append("inline " + ", ".join(p["PolicyName"] for p in inline))
        if parts:
            summary = f"User {name} has policies of its own: " + "; ".join(parts) + "."
        else:
            summary = f"User {name} has no attached or inline policy of its own."
        yield spec.result(user["Arn"], not parts, summary, details)


# --------------------------------------------------------------------------- policies


def _full_admin_results(
    policies: Iterable[Mapping[str, Any]],
    data: Mapping[str, Any],
    spec: CheckSpec,
    kind: str,
) -> Iterator[Result]:
    attachments = _attachments(data)
    for policy in policies:
        name = policy["PolicyName"]
        version = policy.get("DefaultVersionId", "")
        statements = full_admin_statements(policy.get("Document"))
        count = int(policy.get("AttachmentCount", 0))
        entities = attachments.get(policy["Arn"], [])
        details = {
            "default_version_id": version,
            "attachment_count": count,
            "attached_to": entities,
            "statements": statements,
        }
        if not statements:
            summary = (
                f"{kind} policy {name}'s default version {version} has no statement allowing "
                'Action "*" on Resource "*".'
            )
            yield spec.result(policy["Arn"], True, summary, details)
        elif count == 0:
            summary = (
                f'{kind} policy {name} allows Action "*" on Resource "*" but is not attached to '
                "any user, group or role."
            )
            yield spec.result(policy["Arn"], True, summary, details)
        else:
            whom = f" ({', '.join(entities)})" if entities else ""
            summary = (
                f'{kind} policy {name} allows Action "*" on Resource "*" in its default version '
                f"{version} and is attached to {_plural(count, 'entity', 'entities')}{whom}."
            )
            yield spec.result(policy["Arn"], False, summary, details)


@check(
    "iam_customer_policy_no_full_admin_attached",
    controls=["1.16"],
    service="iam",
    resource_type="AWS::IAM::Policy",
    title='No attached customer managed policy allows "*:*" administrative privileges',
)
def iam_customer_policy_no_full_admin_attached(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    yield from _full_admin_results(
        data.get("customer_policies", []), data, spec, "Customer managed"
    )


@check(
    "iam_aws_policy_no_full_admin_attached",
    controls=["1.16"],
    service="iam",
    resource_type="AWS::IAM::Policy",
    title='No attached AWS managed policy allows "*:*" administrative privileges',
)
def iam_aws_policy_no_full_admin_attached(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    yield from _full_admin_results(data.get("aws_managed_policies", []), data, spec, "AWS managed")


@check(
    "iam_support_role_exists",
    controls=["1.17"],
    service="iam",
    resource_type="AWS::::Account",
    title="A support role with AWSSupportAccess exists",
)
def iam_support_role_exists(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    support = data["support_access"]
    roles = list(support.get("roles", []))
    details = {
        "policy_arn": support["policy_arn"],
        "roles": roles,
        "users": list(support.get("users", [])),
        "groups": list(support.get("groups", [])),
    }
    if roles:
        summary = (
            f"AWSSupportAccess is attached to {_plural(len(roles), 'role')}: {', '.join(roles)}."
        )
    else:
        summary = "AWSSupportAccess is not attached to any role."
    yield spec.result(unit.account_arn, bool(roles), summary, details)


# --------------------------------------------------------------------------- certificates


@check(
    "iam_server_certificate_not_expired",
    controls=["1.19"],
    service="iam",
    resource_type="AWS::IAM::ServerCertificate",
    title="No expired SSL/TLS certificate is stored in IAM",
)
def iam_server_certificate_not_expired(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    now = collected_at(data)
    for cert in data.get("server_certificates", []):
        name = cert["ServerCertificateName"]
        expiration = parse_time(cert.get("Expiration"))
        if expiration is None:
            raise ValueError(f"server certificate {name} has no expiration date")
        details = {
            "expiration": cert.get("Expiration"),
            "collected_at": data["collected_at"],
            "upload_date": cert.get("UploadDate"),
        }
        if expiration <= now:
            summary = (
                f"Server certificate {name} expired on {_day(expiration)} and is still stored."
            )
            yield spec.result(cert["Arn"], False, summary, details)
        else:
            summary = f"Server certificate {name} is valid until {_day(expiration)}."
            yield spec.result(cert["Arn"], True, summary, details)
