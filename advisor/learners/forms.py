"""Forms for the learner-facing app.

PlanQueryForm parses the plan parameters (origin, credential, setting, years, destination) for
the plan page, /api/plan/ and the `plan` command, so "400 with a message per field" is written once.
"""

import re
from urllib.parse import unquote_to_bytes

from django import forms
from django.http import QueryDict

from pathways import rules
from pathways.reference import load_reference

_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_CREDENTIAL_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_CREDENTIALS = 20
MAX_YEARS = 60
# The longest query a plan needs is about 600 characters (20 credential codes): a longer one is refused (414)
# before it is parsed, well under the 4 KB request line that gunicorn and deploy/'s nginx accept.
MAX_QUERY_LENGTH = 2048
SINGLE_VALUED = ("origin", "setting", "years", "destination")


def invalid_utf8_parameters(raw_query: str | bytes) -> list[str]:
    """Names of the parameters whose raw bytes are not UTF-8 ("query" when even the name is not).

    Django quietly decodes such bytes as Latin-1 or replacement characters; we reject them.
    """
    if isinstance(raw_query, str):
        raw_query = raw_query.encode("iso-8859-1", errors="replace")
    bad = []
    for pair in raw_query.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            name_text = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            bad.append("query")
            continue
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            bad.append(name_text)
    return list(dict.fromkeys(bad))


def clean_country(reference: rules.Reference, value: str, *, allow_none: bool) -> str | None:
    """A country code in any case (or "none" when allowed, as None), checked against the reference data.

    Surrounding spaces are refused, not trimmed: the API documents exactly what it accepts."""
    if "\ufffd" in value:
        raise forms.ValidationError("This is not valid text (UTF-8).")
    if allow_none and value.lower() == "none":
        return None
    codes = ", ".join(sorted(reference.countries))
    choices = f"{codes}{', or none' if allow_none else ''}"
    if not _COUNTRY_CODE.match(value):
        raise forms.ValidationError(f"Enter a two-letter country code: one of {choices}.")
    code = value.upper()
    if code not in reference.countries:
        raise forms.ValidationError(f"We have no information about {code}. Choose one of {choices}.")
    return code


class PlanQueryForm(forms.Form):
    """The plan parameters as a learner or a client sends them; `.profile` once valid.

    Codes are accepted in any case. `setting` defaults to "both" and counts only where the learner's
    classifications differ by setting (`rules.asks_setting`); `years` is optional.
    """

    # Labels name each parameter on the bad-link page.
    origin = forms.CharField(
        label="Where you trained",
        max_length=10,
        strip=False,
        error_messages={"required": "Choose the country you trained in, or none if you have not trained yet."},
    )
    credential = forms.MultipleChoiceField(
        label="Credentials",
        required=False,
        error_messages={
            "invalid_choice": "We do not know the credential code %(value)s. Leave it out, or check its spelling.",
            "invalid_list": "Give credentials as a list of codes.",
        },
    )
    setting = forms.CharField(label="Setting", max_length=20, required=False, strip=False)
    years = forms.CharField(label="Years of experience", max_length=10, required=False, strip=False)
    destination = forms.CharField(
        label="Where you want to work",
        max_length=10,
        strip=False,
        error_messages={"required": "Choose the country you want to work in."},
    )

    def __init__(self, data=None, *args, reference: rules.Reference | None = None, raw_query=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.reference = reference if reference is not None else load_reference()
        self.fields["credential"].choices = [(code, code) for code in sorted(self.reference.credentials)]
        self._bad_encoding = invalid_utf8_parameters(raw_query) if raw_query else []

    @classmethod
    def from_request(cls, request, reference: rules.Reference | None = None) -> "PlanQueryForm":
        """The form for request.GET, also checking the raw query string is UTF-8."""
        return cls(request.GET, reference=reference, raw_query=request.META.get("QUERY_STRING", ""))

    def _single(self, name: str) -> None:
        if isinstance(self.data, QueryDict) and len(self.data.getlist(name)) > 1:
            raise forms.ValidationError(f"Give {name} only once.")

    def _country(self, name: str, value: str, *, allow_none: bool) -> str | None:
        self._single(name)
        return clean_country(self.reference, value, allow_none=allow_none)

    def clean_origin(self):
        return self._country("origin", self.cleaned_data["origin"], allow_none=True)

    def clean_destination(self):
        return self._country("destination", self.cleaned_data["destination"], allow_none=False)

    def clean_setting(self):
        self._single("setting")
        value = self.cleaned_data["setting"].lower()
        if not value and "setting" not in self.data:
            return "both"  # left out; given empty, it is refused like any other unknown value
        if value not in rules.SETTINGS:
            raise forms.ValidationError("Choose inpatient, outpatient or both.")
        return value

    def clean_years(self):
        self._single("years")
        value = self.cleaned_data["years"]
        if not value and "years" not in self.data:
            return None
        if not value.isascii() or not value.isdigit() or int(value) > MAX_YEARS:
            raise forms.ValidationError(
                f"Enter your years of coding experience as a whole number from 0 to {MAX_YEARS}."
            )
        return int(value)

    def clean_credential(self):
        # A repeated code counts towards the limit (as the document's maxItems does), then is folded into one.
        codes = self.cleaned_data["credential"]
        if len(codes) > MAX_CREDENTIALS:
            raise forms.ValidationError(f"Choose at most {MAX_CREDENTIALS} credentials.")
        return frozenset(codes)

    def full_clean(self):
        # Lower-case the credential codes before the choice check, so codes match in any case.
        if self.is_bound and isinstance(self.data, QueryDict) and "credential" in self.data:
            data = self.data.copy()
            data.setlist("credential", [value.lower() for value in data.getlist("credential")])
            self.data = data
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        for name in self._bad_encoding:
            if name in self.fields and name not in self.errors:
                self.add_error(name, "This is not valid text (UTF-8).")
            elif name not in self.fields:
                self.add_error(None, "The address holds characters that are not valid text (UTF-8).")
        origin, destination = cleaned.get("origin", ""), cleaned.get("destination")
        if destination and origin != "" and origin != destination and self.reference.route(origin, destination) is None:
            self.add_error("destination", "We have no plan for this move yet.")
        return cleaned

    @property
    def profile(self) -> rules.LearnerProfile:
        data = self.cleaned_data
        return rules.LearnerProfile(
            origin=data["origin"],
            credentials=data["credential"],
            # Where the setting does not change the plan, the one it is for: one canonical URL per plan.
            setting=rules.plan_setting(self.reference, data["origin"], data["destination"], data["setting"]),
            years=data["years"],
            destination=data["destination"],
        )

    def canonical_query(self) -> str:
        """The parameters in one normal form (upper-case countries, sorted credentials): a cache key."""
        profile = self.profile
        parts = [f"origin={profile.origin or 'none'}"]
        parts += [f"credential={code}" for code in sorted(profile.credentials)]
        parts.append(f"setting={profile.setting}")
        if profile.years is not None:
            parts.append(f"years={profile.years}")
        parts.append(f"destination={profile.destination}")
        return "&".join(parts)

    def labelled_errors(self) -> list[dict]:
        """The errors as the bad-link page lists them: [{"field": its label, "messages": [...]}]."""
        return [
            {"field": self.fields[name].label if name in self.fields else "Plan", "messages": messages}
            for name, messages in self.errors_as_dict().items()
        ]

    def errors_as_dict(self) -> dict[str, list[str]]:
        """{"field": ["message", ...]}, with "__all__" for errors about the whole query."""
        return {name: [str(message) for message in messages] for name, messages in self.errors.items()}


class CompareQueryForm(forms.Form):
    """The compare page's ?origin=: the plan's origin parameter, checked the same way."""

    origin = forms.CharField(error_messages={"required": "Select where you trained as a coder"})

    def __init__(self, data, *, reference: rules.Reference):
        super().__init__(data)
        self.reference = reference

    def clean_origin(self):
        try:
            return clean_country(self.reference, self.cleaned_data["origin"], allow_none=True)
        except forms.ValidationError:
            raise forms.ValidationError("Select where you trained as a coder") from None
