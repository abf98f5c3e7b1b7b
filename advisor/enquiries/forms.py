"""The enquiry form: contact details, consent, and the hidden fields that keep it honest.

Hidden fields: `submission_id` (a fresh UUID per form, what makes a resubmission land on the same
enquiry), `form_token` (a signed timestamp: the time-trap) and `extra_reference` (the honeypot, hidden
from people, filled by bots). A filled honeypot or a form sent too fast is not an error the sender
sees: the form is valid and `spam_reason` says why the enquiry goes to quarantine.
"""

import time
import uuid

import phonenumbers
from django import forms
from django.conf import settings
from django.core import signing

from advisor.enquiries.models import ContactMethod

TOKEN_SALT = "advisor.enquiry.time-trap"


def make_token(submission_id, issued_at: float | None = None) -> str:
    """A signed token binding the form's submission id to the time the form was shown."""
    issued_at = time.time() if issued_at is None else issued_at
    return signing.dumps({"sid": str(submission_id), "t": issued_at}, salt=TOKEN_SALT, compress=True)


def new_form_ids() -> dict[str, str]:
    """A fresh submission id and its time-trap token: what every blank form gets, never shared."""
    submission_id = uuid.uuid4()
    return {"submission_id": str(submission_id), "form_token": make_token(submission_id)}


def read_token(token: str, submission_id) -> float:
    """Seconds since the form was shown. Raises signing.BadSignature (or SignatureExpired) if the token
    is forged, for another form, or older than ENQUIRY_FORM_MAX_AGE."""
    data = signing.loads(token, salt=TOKEN_SALT, max_age=settings.ENQUIRY_FORM_MAX_AGE)
    if data.get("sid") != str(submission_id):
        raise signing.BadSignature("token is for another form")
    age = time.time() - float(data["t"])
    if age > settings.ENQUIRY_FORM_MAX_AGE:
        raise signing.SignatureExpired("form too old")
    return age


def normalise_phone(value: str, region: str | None = None) -> str:
    """E.164 for a valid number, '' otherwise. Spaces, dashes and brackets are fine."""
    try:
        number = phonenumbers.parse(value, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    """Trim, and lowercase the domain (the part before @ can be case-sensitive)."""
    local, _, domain = value.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else value.strip()


class EnquiryForm(forms.Form):
    # Fields people must fill in are checked in clean_<field> rather than with required=True: crispy marks
    # required fields with an asterisk, and GOV.UK (our UX reference) marks the optional ones instead.
    name = forms.CharField(
        label="Full name",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        required=False,
        help_text="We use it to reply to you, and for nothing else unless you ask for course news below.",
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    preferred_contact = forms.ChoiceField(
        label="How should an adviser contact you?",
        choices=ContactMethod.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    phone = forms.CharField(
        label="Phone number (optional)",
        max_length=40,
        required=False,
        help_text="Needed only if you would like a call. Australian numbers can start with 0; "
        "for other countries start with + and the country code.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    best_time = forms.CharField(
        label="Best time to call (optional)",
        max_length=100,
        required=False,
        help_text="For example, weekday mornings.",
    )
    message = forms.CharField(
        label="Your question (optional)",
        max_length=2000,
        required=False,
        help_text="Do not include health or financial details.",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "Your question must be 2,000 characters or fewer"},
    )
    info_pack = forms.BooleanField(required=False)
    contact_consent = forms.BooleanField(
        label="I agree to be contacted about this enquiry",
        required=False,
    )
    marketing_opt_in = forms.BooleanField(
        label="Also send me news about courses (optional; you can unsubscribe at any time)",
        required=False,
        initial=False,
    )
    submission_id = forms.UUIDField(widget=forms.HiddenInput)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=500)
    # The honeypot. Its name is plausible but nothing browsers autofill.
    extra_reference = forms.CharField(
        label="Leave this empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, info_pack_credential: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spam_reason = ""
        self.token_problem = False
        self.info_pack_credential = info_pack_credential
        if info_pack_credential:
            self.fields[
                "info_pack"
            ].label = f"Send me the course information pack for {info_pack_credential['name']} (optional)"
        else:
            del self.fields["info_pack"]
        if not self.is_bound and "submission_id" not in self.initial:
            self.initial.update(new_form_ids())

    def _required(self, name: str, message: str):
        value = self.cleaned_data.get(name)
        if value in (None, "", False) or (isinstance(value, str) and not value.strip()):
            raise forms.ValidationError(message, code="required")
        return value

    def clean_name(self):
        return self._required("name", "Enter your full name").strip()

    def clean_email(self):
        return normalise_email(self._required("email", "Enter your email address"))

    def clean_preferred_contact(self):
        return self._required("preferred_contact", "Select how an adviser should contact you")

    def clean_contact_consent(self):
        return self._required("contact_consent", "Agree to be contacted, or we cannot reply to your enquiry")

    def clean_phone(self):
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        e164 = normalise_phone(raw)
        if not e164:
            raise forms.ValidationError(
                "Enter a phone number, like 0412 345 678 or +44 7700 900 982", code="invalid_phone"
            )
        return e164

    def clean(self):
        cleaned = super().clean()
        wants_call = cleaned.get("preferred_contact") == ContactMethod.PHONE
        if wants_call and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", forms.ValidationError("Enter a phone number, so an adviser can call you"))
        if "submission_id" in cleaned and "form_token" in cleaned:
            self._check_time_trap(cleaned["submission_id"], cleaned["form_token"])
        if cleaned.get("extra_reference"):
            self.spam_reason = "honeypot"
        return cleaned

    def _check_time_trap(self, submission_id, token):
        try:
            age = read_token(token, submission_id)
        except signing.BadSignature:
            # Expired or tampered: ask the person to send again (everything they typed is kept).
            self.token_problem = True
            raise forms.ValidationError(
                "This form was open for a long time, so we could not send it. Check your answers and send it again.",
                code="expired",
            ) from None
        if age < settings.ENQUIRY_MIN_SECONDS and not self.spam_reason:
            self.spam_reason = "too fast"

    def refresh_token(self):
        """Give a re-shown form a new time-trap token, keeping everything else the person typed."""
        data = self.data.copy()
        try:
            submission_id = uuid.UUID(str(data.get("submission_id")))
        except ValueError:
            submission_id = uuid.uuid4()
        data["submission_id"] = str(submission_id)
        data["form_token"] = make_token(submission_id)
        self.data = data

    @property
    def contact_details(self) -> dict:
        """The model fields this form fills."""
        data = self.cleaned_data
        pack = self.info_pack_credential["code"] if self.info_pack_credential and data.get("info_pack") else ""
        return {
            "name": data["name"].strip(),
            "email": data["email"],
            "phone": data["phone"],
            "preferred_contact": data["preferred_contact"],
            "best_time": data["best_time"].strip(),
            "message": data["message"].strip(),
            "info_pack": pack,
            "marketing_opt_in": data["marketing_opt_in"],
        }
