from django import template

from ..display import event_summary

register = template.Library()
register.filter("event_summary", event_summary)
