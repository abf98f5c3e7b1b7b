"""The enquiry form: contact details, consent, and the hidden fields that keep it honest.

Hidden fields: `submission_id` (a fresh UUID per form, what makes a resubmission land on the same
enquiry), `form_token` (a signed timestamp: the time-trap) and `extra_reference` (the honeypot, hidden
from people, filled by bots). A filled honeypot or a form sent too fast is not an error the sender
sees: the form is valid and `spam_reason` says why the enquiry goes to quarantine.

What a learner types (name, best time to call, question) is plain text, and advisers' emails quote it, so
control characters never get in (clean_text):
- Invisible formatting is removed without a word: the bidirectional controls (U+202A-U+202E, U+2066-U+2069), the
  direction marks (U+200E, U+200F, U+061C), the zero-width space, the word joiner and the byte-order mark (U+200B,
  U+2060, U+FEFF). They cannot be seen, so a person could not find them to take them out; pasting from a web page or
  a right-to-left text brings them in by accident, and they can make text read differently from what it says.
  The zero-width joiner and non-joiner (U+200C, U+200D) stay: Persian, Indic scripts and emoji spell with them.
- Line breaks (CR, LF, CR LF, and the vertical tab, form feed, U+0085, U+2028, U+2029 that word processors paste)
  are kept in the question, as line feeds, and refused in a single-line field with a message beside it ("Full name
  must be on one line"): a browser never sends one from a one-line box, so only a script does, and nothing is
  quietly changed. A tab in a single-line field becomes a space.
- Any other control character (C0 but the tab and line breaks, DEL, C1) is refused with a message beside the field
  ("... must not contain control characters ..."); NUL gets Django's own refusal first. The form comes back with
  everything typed, as for any error.
"""

import re
import time
import uuid

import phonenumbers
from django import forms
from django.conf import settings
from django.core import signing

from advisor.enquiries.models import ContactMethod

TOKEN_SALT = "advisor.enquiry.time-trap"

INVISIBLE = str.maketrans(
    dict.fromkeys(
        "\u202a\u202b\u202c\u202d\u202e"  # bidirectional embeddings and overrides
        "\u2066\u2067\u2068\u2069"  # bidirectional isolates
        "\u200e\u200f\u061c"  # direction marks
        "\u200b\u2060\ufeff"  # zero-width space, word joiner, byte-order mark
    )
)
LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # what is left once line breaks and tabs are dealt with


def clean_text(value: str, label: str, *, multiline: bool = False) -> str:
    """Text a learner typed, as it is stored: invisible formatting removed, line breaks kept as line feeds where the
    field is multi-line, and a ValidationError naming the field (`label`) for a line break in a single-line field or
    any other control character. Trimmed."""
    text = value.translate(INVISIBLE)
    if multiline:
        text = LINE_BREAK.sub("\n", text)
    elif LINE_BREAK.search(text):
        raise forms.ValidationError(f"{label} must be on one line", code="line_break")
    else:
        text = text.replace("\t", " ")
    if CONTROL.search(text):
        raise forms.ValidationError(
            f"{label} must not contain control characters (invisible characters that copying and pasting can "
            "bring in): type it again",
            code="control_character",
        )
    return text.strip()


def single_line(value: str) -> str:
    """Any stored text as plain text on one line, for filling a template: invisible formatting removed, every line
    break, tab or other control character and the spaces around it one space. Never refuses: what is stored
    already, from before the form checked it, must still fill in."""
    text = LINE_BREAK.sub(" ", value.translate(INVISIBLE))
    return " ".join(CONTROL.sub(" ", text).split())


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
        name = clean_text(self.cleaned_data["name"], "Full name")
        if not name:  # (also a name that was nothing but invisible characters)
            raise forms.ValidationError("Enter your full name", code="required")
        return name

    def clean_best_time(self):
        return clean_text(self.cleaned_data["best_time"], "Best time to call")

    def clean_message(self):
        return clean_text(self.cleaned_data["message"], "Your question", multiline=True)

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
