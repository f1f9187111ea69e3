"""Who may do what (ISO 9001: every action by an identified person with the right role).

The services check these before any change; the windows only hide what would be refused.
"""

from nest_desktop.domain.messages import N_

SECRETARY = "secretary"
CUSTOMER_RELATIONS = "customer_relations"
PROSPECT_MANAGER = "prospect_manager"
QUALITY_PILOT = "quality_pilot"
QUALITY_COPILOT = "quality_copilot"  # procedure 004 names a pilot and a co-pilot
ADMINISTRATOR = "administrator"
ROLES = (SECRETARY, CUSTOMER_RELATIONS, PROSPECT_MANAGER, QUALITY_PILOT, QUALITY_COPILOT,
         ADMINISTRATOR)
ROLE_LABELS = {
    SECRETARY: N_("Medical secretary"),
    CUSTOMER_RELATIONS: N_("Customer-relations secretary"),
    PROSPECT_MANAGER: N_("Prospect manager"),
    QUALITY_PILOT: N_("Quality pilot"),
    QUALITY_COPILOT: N_("Quality co-pilot"),
    ADMINISTRATOR: N_("Administrator"),
}

_DESK = frozenset({SECRETARY, CUSTOMER_RELATIONS, PROSPECT_MANAGER, ADMINISTRATOR})
_EVERYONE = frozenset(ROLES)
_QUALITY = frozenset({QUALITY_PILOT, QUALITY_COPILOT, ADMINISTRATOR})

# action -> roles allowed to do it
PERMISSIONS: dict[str, frozenset[str]] = {
    "patient.read": _EVERYONE,
    "patient.write": _DESK,  # the quality pilot reads everything and changes no patient data
    "vaccination.write": _DESK,
    "document.print": _EVERYONE,
    "backup.create": _EVERYONE,
    "patients.export": frozenset({CUSTOMER_RELATIONS, QUALITY_PILOT, QUALITY_COPILOT,
                                  ADMINISTRATOR}),
    "audit.read": _QUALITY,
    "settings.write": frozenset({ADMINISTRATOR}),
    "sites.manage": frozenset({ADMINISTRATOR}),
    "accounts.manage": frozenset({ADMINISTRATOR}),
    "backup.restore": frozenset({ADMINISTRATOR}),
    # records past their retention go only by an administrator's explicit, audited purge
    "records.purge": frozenset({ADMINISTRATOR}),
    "prospects.write": _DESK,  # prospects from calls and visits, answers, callbacks
    # requests by email or the website form are centralised by the prospect manager (PRO-04)
    "prospects.create_written": frozenset({PROSPECT_MANAGER}),
    "prospects.import": frozenset({PROSPECT_MANAGER}),
    "prospects.merge": frozenset({PROSPECT_MANAGER, CUSTOMER_RELATIONS, ADMINISTRATOR}),
    "followup.work": _DESK,  # calls, surveys, assigning tasks
    "campaign.create": frozenset({CUSTOMER_RELATIONS, ADMINISTRATOR}),
    "calls.write": _DESK,  # answering the phone: register, messages, appointments
    "intake.hold": frozenset({SECRETARY}),  # the intake interview (PAT-02)
    "directory.manage": frozenset({ADMINISTRATOR}),
    "sms.send": _DESK,  # the outbox by hand: cancel, send again, a newsletter, an SMS to her
    # ISO 9001 §10.2: anyone records a complaint heard; the pilots analyse, act and close it
    "quality.record": _EVERYONE,
    "quality.manage": _QUALITY,  # the register, its targets, the indicators, the review
}


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


def roles_for(action: str) -> list[str]:
    """The roles that may do `action`, in the order of ROLES."""
    return [role for role in ROLES if role in PERMISSIONS[action]]


# Accounts
PASSWORD_MIN_LENGTH = 10
# Wrong passwords slow the next attempts down (per account and per workstation) rather than
# lock the account: someone trying the nine accounts cannot keep the clinic out.
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 60
IDLE_LOCK_MINUTES = 5
# Every demo account's password: refused for a real account.
DEMO_PASSWORD = "nest-demo"


def throttle_seconds(failures: int) -> int:
    """How long after `failures` wrong passwords in a row the next attempt waits: none for
    the first few, then 5 s, 10 s, 20 s… up to a minute."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_DELAY_SECONDS, 5 * 2 ** (failures - FREE_ATTEMPTS))
