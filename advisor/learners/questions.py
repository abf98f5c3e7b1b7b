"""The guided questionnaire's questions: one form per step, in the order a learner meets them.

Each step's form is the page's question (its h1) and checks the answer against the reference data; what
happens to an answer (kept in the learner's cookie, which step comes next) is answers.py.
"""

from django import forms
from django.utils.html import format_html

from advisor.learners.forms import MAX_YEARS
from pathways import rules
from pathways.choices import NEW_TO_CODING

STEPS = ["origin", "credentials", "experience", "destination"]
NEWCOMER_STEPS = ["origin", "destination", "experience"]  # the destination decides whether the setting matters
NONE_OF_THESE = "none"
NOT_SURE = "not-sure"

SETTING_CHOICES = [
    ("inpatient", "Inpatient: patients admitted to hospital"),
    ("outpatient", "Outpatient: clinics, physician offices and emergency departments"),
    ("both", "Both"),
    (NOT_SURE, "I’m not sure"),
]

# Section captions instead of a progress bar: the number of steps depends on the answers.
CAPTIONS = {
    "origin": "About your training",
    "credentials": "About your training",
    "experience": "About your work",
    "destination": "Where you want to work",
}


def _heading(text):
    """The question is the page's h1, inside its legend or label (GOV.UK question pages)."""
    return format_html('<h1 class="question-heading">{}</h1>', text)


class _StepForm(forms.Form):
    # Validation is server-side only: no `required` attributes (the form also has novalidate).
    use_required_attribute = False
    heading = ""

    def __init__(self, *args, reference, answers, **kwargs):
        super().__init__(*args, **kwargs)
        self.reference = reference
        self.answers = answers


def _country_choices(reference):
    return sorted(((c.code, c.name) for c in reference.countries.values()), key=lambda choice: choice[1])


class OriginForm(_StepForm):
    heading = "Where did you train as a clinical or medical coder?"
    origin = forms.ChoiceField(
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Select where you trained as a coder"},
        help_text="Choose the country where you learned to code, or say you have not trained yet.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["origin"]
        field.label = _heading(self.heading)
        field.choices = [*_country_choices(self.reference), (NEW_TO_CODING, "I have not trained as a coder yet")]

    def clean_origin(self):
        if not self.cleaned_data["origin"]:
            raise forms.ValidationError("Select where you trained as a coder")
        return self.cleaned_data["origin"]


class CredentialsForm(_StepForm):
    heading = "Which of these do you hold?"
    credentials = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Select the credentials you hold, or select None of these"},
        help_text="Select all that apply. Include a credential you are still completing only if it is awarded.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["credentials"]
        field.label = _heading(self.heading)
        field.choices = [
            *((c.code, f"{c.name} ({c.awarded_by})") for c in credential_choices(self.reference, self.answers)),
            (NONE_OF_THESE, "None of these"),
        ]

    def clean_credentials(self):
        chosen = self.cleaned_data["credentials"]
        if not chosen:
            raise forms.ValidationError("Select the credentials you hold, or select None of these")
        if NONE_OF_THESE in chosen and len(chosen) > 1:
            raise forms.ValidationError("Select None of these only if you hold none of the credentials listed")
        return [code for code in chosen if code != NONE_OF_THESE]


class ExperienceForm(_StepForm):
    heading = "Your coding experience"
    setting = forms.ChoiceField(
        label="Which setting do you code in?",
        widget=forms.RadioSelect,
        choices=SETTING_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Select the setting you code in, or I’m not sure"},
    )
    years = forms.CharField(
        label="How many years have you worked as a coder? (optional)",
        help_text="Whole years, for example 3. Leave this blank if you are not sure.",
        required=False,
        max_length=10,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": "false", "autocomplete": "off", "class": "input-short"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        newcomer = self.answers.get("origin") == NEW_TO_CODING
        country = self.reference.countries.get(self.answers.get("destination" if newcomer else "origin"))
        if country is None or not asks_setting(self.answers, self.reference):
            # The classifications are the same in every setting there: the answer would change nothing.
            del self.fields["setting"]
        else:
            self.fields[
                "setting"
            ].help_text = (
                f"Coders in {country.in_sentence} use different classifications in each, so your plan depends on it."
            )
        if newcomer:
            # Someone new to coding has no years to count; the setting still decides what they learn.
            self.heading = "The work you want to do"
            del self.fields["years"]
            self.fields["setting"].label = "Which setting do you want to code in?"
            self.fields["setting"].error_messages["invalid_choice"] = "Select the setting you want to code in"

    def clean_setting(self):
        if not self.cleaned_data["setting"]:
            raise forms.ValidationError(self.fields["setting"].error_messages["invalid_choice"])
        return self.cleaned_data["setting"]

    def clean_years(self):
        text = self.cleaned_data["years"].strip()
        if not text or text.lower() in ("not sure", "unsure", "don't know", "don’t know"):
            return None
        if not text.isdigit():
            raise forms.ValidationError("Enter your years of experience as a whole number, like 3")
        years = int(text)
        if years > MAX_YEARS:
            raise forms.ValidationError(f"Years of experience must be {MAX_YEARS} or fewer")
        return years


class DestinationForm(_StepForm):
    heading = "Where do you want to work as a coder?"
    destination = forms.ChoiceField(
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Select where you want to work"},
        help_text="Choose the country you trained in to see how to progress there.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["destination"]
        field.label = _heading(self.heading)
        field.choices = _country_choices(self.reference)

    def clean_destination(self):
        if not self.cleaned_data["destination"]:
            raise forms.ValidationError("Select where you want to work")
        return self.cleaned_data["destination"]


FORMS = {
    "origin": OriginForm,
    "credentials": CredentialsForm,
    "experience": ExperienceForm,
    "destination": DestinationForm,
}


def asks_setting(answers, reference):
    """Whether the setting question applies (`rules.asks_setting`): for a coder, where their origin's
    classifications differ by setting; for someone new to coding, where their destination's do, once chosen."""
    origin = answers.get("origin")
    if origin == NEW_TO_CODING:
        return answers.get("destination") in reference.countries and rules.asks_setting(
            reference, None, answers["destination"]
        )
    return origin in reference.countries and rules.asks_setting(reference, origin, None)


def credential_choices(reference, answers):
    origin = answers.get("origin")
    if not origin or origin == NEW_TO_CODING or origin not in reference.countries:
        return []
    return list(reference.credentials_for(origin))
