"""Serializer fields that take JSON as its types say.

DRF's fields coerce: a CharField turns `0` into "0", a BooleanField reads "true" or 1, an
IntegerField "7". An API whose schema says string, boolean or integer then accepts bodies the
schema calls invalid, and a client's type bug goes unnoticed. These refuse the wrong JSON type;
a form post (the browsable API's HTML forms), whose values are all strings, is still read as DRF does.
"""

from django.db import models
from rest_framework import serializers
from rest_framework.utils import html


def _from_form(field: serializers.Field) -> bool:
    root = field.root
    return html.is_html_input(getattr(root, "initial_data", None))


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str) and not _from_form(self):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"not_a_boolean": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool) and not _from_form(self):
            self.fail("not_a_boolean")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"not_an_integer": "Must be a whole number."}

    def to_internal_value(self, data):
        whole = isinstance(data, int) or (isinstance(data, float) and data.is_integer())
        if (isinstance(data, bool) or not whole) and not _from_form(self):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


# A ModelSerializer whose text, boolean and integer model fields are the strict ones above. (A
# comment, not a docstring: drf-spectacular would show it as every subclass's description.)
class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
    }
