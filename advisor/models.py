"""The app's models, for Django: each is defined in the package it belongs to (see README, Layout)."""

from advisor.enquiries.models import EmailDelivery, Enquiry, EnquiryNote, RateLimitBucket
from advisor.funnel.models import FunnelCount
from advisor.inbox.models import ReplyTemplate

__all__ = ["EmailDelivery", "Enquiry", "EnquiryNote", "FunnelCount", "RateLimitBucket", "ReplyTemplate"]
