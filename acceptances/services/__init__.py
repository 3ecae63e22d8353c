"""Every write about risk treatment: zones, acceptances, coverage and their history.

Services take model instances and plain values (never a request, form or serializer), check the
actor's permission, validate, run in one transaction and write history. The UI, the API and the
admin console all come through here, so the rules hold whatever door a change uses.

One module by what it writes: ``zones``, ``watches``, ``coverage``, ``acceptances``, ``expiry``
(``history`` holds what they share). Every service is importable from here too, as
``from acceptances import services; services.accept_risk(...)``.
"""

from acceptances.services.acceptances import (
    SIGNOFF_STATES,
    accept_risk,
    accept_risk_for_resources,
    accept_risk_in_scope,
    approve_acceptance,
    approve_acceptance_change,
    default_zone,
    reject_acceptance_change,
    revoke_acceptance,
    sign_off_acceptance,
    update_acceptance,
    validate_new_acceptance,
    validate_update,
)
from acceptances.services.attestations import attest_control, claim_due_attestation_reminders
from acceptances.services.coverage import (
    count_would_cover,
    count_would_cover_resources,
    preview_cover,
    record_coverage,
    refresh_coverage,
    refresh_staleness,
)
from acceptances.services.expiry import (
    EXPIRY_PRESETS,
    expire_due_acceptances,
    expiry_from_preset,
    extension_base,
    validate_extension,
    validate_shortening,
)
from acceptances.services.fix_plans import (
    cancel_fix_plan,
    close_fixed_plans,
    plan_fix,
    validate_fix_plan,
)
from acceptances.services.history import EDITABLE_FIELDS
from acceptances.services.signoff import (
    claim_due_signoff_reminders,
    release_signoff_reminders,
)
from acceptances.services.watches import unwatch_zone, watch_zone
from acceptances.services.zones import (
    preview_zone,
    refresh_memberships_for_unit,
    refresh_zone_membership,
    resources_matching,
    save_zone,
)

__all__ = [
    "EDITABLE_FIELDS",
    "EXPIRY_PRESETS",
    "SIGNOFF_STATES",
    "accept_risk",
    "accept_risk_for_resources",
    "accept_risk_in_scope",
    "approve_acceptance",
    "approve_acceptance_change",
    "attest_control",
    "cancel_fix_plan",
    "claim_due_attestation_reminders",
    "claim_due_signoff_reminders",
    "close_fixed_plans",
    "count_would_cover",
    "count_would_cover_resources",
    "default_zone",
    "expire_due_acceptances",
    "expiry_from_preset",
    "extension_base",
    "plan_fix",
    "preview_cover",
    "preview_zone",
    "record_coverage",
    "refresh_coverage",
    "refresh_memberships_for_unit",
    "refresh_staleness",
    "refresh_zone_membership",
    "reject_acceptance_change",
    "release_signoff_reminders",
    "resources_matching",
    "revoke_acceptance",
    "save_zone",
    "sign_off_acceptance",
    "unwatch_zone",
    "update_acceptance",
    "validate_extension",
    "validate_fix_plan",
    "validate_new_acceptance",
    "validate_shortening",
    "validate_update",
    "watch_zone",
]
