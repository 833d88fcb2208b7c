"""The refusals of the contract's commands, one class per rule (docs/domain.md §5).

The first line of each docstring is the rule as users are shown it (the API's problem
`title`), so it says what is required, not what went wrong; the message passed when
raising says what was found. The base classes (`domain/errors.py`) decide the answer's
kind: invalid input, a rule of the case's state, or an agency not permitted.
"""

from __future__ import annotations

from domain.errors import InvalidInputError, NotPermittedError, RuleViolationError


class AgeOutOfRangeError(InvalidInputError):
    """A contract may only be offered for an offence committed when the youth was 15 to 17."""


class OffenceDateInFutureError(InvalidInputError):
    """The offence date cannot be later than the day the offer is made."""


class LegalBasisInvalidError(InvalidInputError):
    """A contract is offered on a known legal basis: strpl_71a (transfer to the Conflict Council), strpl_69 (waiver of prosecution with conditions) or youth_follow_up."""


class ReplacedReactionInvalidError(InvalidInputError):
    """The offer records the ordinary reaction it replaces: a fine with its amount, or another reaction described."""


class GuardianRequiredError(InvalidInputError):
    """A youth under 18 on the offer date must have at least one registered guardian."""


class CollectedInFutureError(InvalidInputError):
    """A sample cannot have been collected later than the moment its result is recorded."""


class HeldInFutureError(InvalidInputError):
    """A meeting is recorded once it has been held: its time cannot be later than the moment it is recorded."""


class StartupMeetingNotDueError(RuleViolationError):
    """A startup meeting is marked held only from the time it was scheduled for; to hold it earlier, schedule it again."""


class OfferDeadlineInvalidError(InvalidInputError):
    """The offer deadline must be after the offer date."""


class OfferDeadlineNotPassedError(RuleViolationError):
    """An offer lapses only after its answer deadline has passed."""


class GuardianAlreadyRegisteredError(InvalidInputError):
    """A guardian is registered once, and is not the youth."""


class BookletUnknownError(InvalidInputError):
    """A consent records a registered version of the information booklet, in a language it is published in."""


class DeadlineNotOpenError(RuleViolationError):
    """The deadline is not open on the case (it has moved on, or it never ran)."""


class DeadlineNotPassedError(RuleViolationError):
    """The deadline (or its grace) has not run out yet."""


class DeadlineAlreadyRecordedError(RuleViolationError):
    """This deadline was recorded already: each is recorded once."""


class RelationUnchangedError(RuleViolationError):
    """The case is already related so: nothing to record."""


class TeamMemberAgencyError(InvalidInputError):
    """The county and the auditor see no case as a team member."""


class UnknownTeamMemberError(InvalidInputError):
    """No team member with this id is on the case's team."""


class UnknownSignatoryError(InvalidInputError):
    """The signatory must be the youth or one of the registered guardians."""


class ScopeNotConsentableError(InvalidInputError):
    """Consent cannot open a category the policy closes for that agency (never, or statistics only)."""


class ConsentAlreadyGivenError(RuleViolationError):
    """This signatory has already consented to the contract and to every item of this scope."""


class ConsentNotGivenError(RuleViolationError):
    """A consent can only be withdrawn by a signatory who has given it."""


class PlanIncompleteError(InvalidInputError):
    """A plan needs stage, start and end date, test regime, meeting frequency and team."""


class PlanTooLongError(InvalidInputError):
    """A plan's end date must be after its start date and at most 12 months after it."""


class PlanDeviationReasonRequiredError(InvalidInputError):
    """A plan that departs from its stage's defaults (duration, tests per month, meeting frequency) must say why (deviation_reason)."""


class MunicipalitiesMissingError(InvalidInputError):
    """When residence and registered municipality differ, the plan must name both."""


class StageInvalidError(InvalidInputError):
    """The stage (trinn) must be one of the configured stages and differ from the current one."""


class TestFrequencyStepDownError(RuleViolationError):
    """Test frequency may step down only after the configured number of consecutive negative tests."""


class TestFrequencyStepUpError(RuleViolationError):
    """Test frequency steps up only through a breach decision."""


class UnknownTestError(InvalidInputError):
    """No test with this id is scheduled on this contract."""


class TestResultAlreadyRecordedError(RuleViolationError):
    """A test result is recorded once; a correction is a new test."""


class DuplicateIdError(InvalidInputError):
    """This id is already used on this contract."""


class BreachEvidenceError(InvalidInputError):
    """A positive-test breach must name a test with a recorded positive result."""


class UnknownBreachError(InvalidInputError):
    """No breach with this id is under review on this contract."""


class ProportionalityFactorsMissingError(InvalidInputError):
    """Every breach decision must record seriousness, fault, condition kind, motivation, share completed and repetition."""


class RapidTestNotConfirmedError(RuleViolationError):
    """A breach resting only on unconfirmed rapid tests cannot be answered with termination."""


class TerminationNotGroundedError(RuleViolationError):
    """Termination needs a confirmed lab result, a new offence, repeated no-shows or repeated breaches."""


class StageOneSingleBreachError(RuleViolationError):
    """In stage 1 (trinn 1) a single breach is answered with a conversation or a warning (or dismissed), never with tightened conditions, a new plan or termination."""


class EndDateNotReachedError(RuleViolationError):
    """A contract can be completed only when the plan's end date has been reached."""


class ResultRecorderNotPermittedError(NotPermittedError):
    """A test result is recorded by the agency its requisition names (by default: rapid results by municipal health, follow-up lab results by the GP, sanction lab results by the prosecution)."""


class ResultRecorderInvalidError(InvalidInputError):
    """A requisition names as result recorder an agency that may record that kind of test: municipal health for rapid tests, the GP or municipal health for follow-up lab tests, the prosecution for sanction lab tests."""


class ConfirmedTestInvalidError(InvalidInputError):
    """A lab test confirms only a positive rapid test of the same contract, and each rapid test only once."""


class RequisitionCodeRequiredError(InvalidInputError):
    """A lab result must carry the requisition code of its requisition."""


class BreachNotRefutedError(RuleViolationError):
    """A positive-test breach is dismissed only when a lab result has refuted the rapid test it rests on."""
