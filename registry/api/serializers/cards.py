"""A version's model card: every section's text and provenance, and edits to it."""

from rest_framework import serializers

from ...choices import CARD_SECTION_NAMES, CARD_SECTIONS, SectionStatus
from ..fields import StrictInputMixin


class CardSectionSerializer(serializers.Serializer):
    title = serializers.CharField()
    text = serializers.CharField(help_text="Markdown.")
    status = serializers.ChoiceField(
        choices=SectionStatus.choices,
        help_text="edited or confirmed for this version, or inherited from an earlier "
        "version and not yet reviewed (then it does not count towards completeness).",
    )
    counts = serializers.BooleanField(
        help_text="Has text written or reviewed for this version: counts towards completeness."
    )
    edited_for = serializers.IntegerField(
        allow_null=True, help_text="The version number the text was last edited for."
    )
    edited_by = serializers.CharField(allow_null=True, help_text="Who last edited the text.")
    edited_at = serializers.DateTimeField(allow_null=True)
    inherited_from = serializers.IntegerField(
        allow_null=True, help_text="The earlier version this card's text was copied from."
    )
    confirmed_by = serializers.CharField(
        allow_null=True, help_text="Who reviewed the inherited text for this version."
    )
    confirmed_at = serializers.DateTimeField(allow_null=True)


CardSectionsSerializer = type(
    "CardSectionsSerializer",
    (serializers.Serializer,),
    {name: CardSectionSerializer(help_text=title) for name, title in CARD_SECTIONS},
)


class CardSerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.IntegerField()
    revision = serializers.IntegerField(
        help_text="Grows with every saved change; the ETag header carries it."
    )
    completeness = serializers.IntegerField(
        help_text="Percentage of sections with text written or reviewed for this version."
    )
    complete = serializers.BooleanField()
    sections = CardSectionsSerializer()


class SectionNamesField(serializers.ListField):
    """A list of section names whose errors come as one flat list of messages."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=CARD_SECTION_NAMES), **kwargs)

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict):
                raise serializers.ValidationError(
                    [f"Item {i}: {m}" for i, msgs in detail.items() for m in msgs]
                ) from None
            raise


CardWriteSerializer = type(
    "CardWriteSerializer",
    (StrictInputMixin, serializers.Serializer),
    {
        "__doc__": "New Markdown per section (PUT needs every section, PATCH any of them; a "
        "section whose text changes becomes edited for this version), and `confirm`.",
        **{
            name: serializers.CharField(
                allow_blank=True, trim_whitespace=False, help_text=f"{title} (Markdown)."
            )
            for name, title in CARD_SECTIONS
        },
        "confirm": SectionNamesField(
            required=False,
            max_length=len(CARD_SECTION_NAMES),
            help_text="Sections inherited from an earlier version whose text you reviewed "
            "and keep for this version.",
        ),
    },
)
