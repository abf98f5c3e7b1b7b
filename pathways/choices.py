"""The reference data's vocabularies: the choices of its fields, shared by models, admin, checks and pages."""

from django.db import models

# The origin of someone not trained as a coder yet, in plan links and answers ("origin=none", DESIGN.md).
NEW_TO_CODING = "none"


class SourceKind(models.TextChoices):
    SEED = "seed", "Source article"
    OFFICIAL = "official", "Official source"
    THIRD_PARTY = "third-party", "Third-party source"
    INFERRED = "inferred", "Inferred"


class Setting(models.TextChoices):
    """Where a classification or credential applies. Learners pick inpatient, outpatient or both."""

    INPATIENT = "inpatient", "Inpatient (admitted care)"
    OUTPATIENT = "outpatient", "Outpatient, office and ambulatory"
    ALL = "all", "All settings"


class ClassificationKind(models.TextChoices):
    DIAGNOSIS = "diagnosis", "Diagnosis"
    PROCEDURE = "procedure", "Procedure"
    STANDARD = "standard", "Coding standard"
    GROUPER = "grouper", "Grouper / funding"
    SUPPLIES = "supplies", "Supplies and services"


class CredentialKind(models.TextChoices):
    QUALIFICATION = "qualification", "Qualification"
    CERTIFICATION = "certification", "Certification"
    EXAM = "exam", "Exam"
    COURSE = "course", "Course"
    ASSESSMENT = "assessment", "Assessment"
    MEMBERSHIP = "membership", "Professional credentialing"


class GapLevel(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MODERATE = "moderate", "Moderate"
    MAJOR = "major", "Major"
    NEW = "new", "New: learn from scratch"


class Difficulty(models.IntegerChoices):
    NO_MOVE = 0, "No move needed"
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"
    VERY_HIGH = 4, "Very high"


class DurationUnit(models.TextChoices):
    DAY = "day", "days"
    WEEK = "week", "weeks"
    MONTH = "month", "months"
    YEAR = "year", "years"


class NoteKind(models.TextChoices):
    WARNING = "warning", "Warning"
    NOTE = "note", "Note"
