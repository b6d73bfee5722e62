from rest_framework import serializers

from common.validation import InputCheckSerializer, fast_validator


def _no_sevens(value):
    if "7" in str(value):
        raise serializers.ValidationError("No sevens.")


class Parcel(serializers.Serializer):
    code = serializers.CharField(max_length=8, validators=[_no_sevens])
    kg = serializers.FloatField(min_value=0, default=1)


class UpperCaseParcel(Parcel):
    def to_internal_value(self, data):
        return {**super().to_internal_value(data), "code": data["code"].upper()}


class CheckedParcel(InputCheckSerializer, Parcel):
    def check_input(self, data):
        if isinstance(data, dict) and "weight" in data:
            raise serializers.ValidationError({"weight": ["Send kg."]})


def test_plain_input_gets_what_drf_gives():
    fast = fast_validator(Parcel())

    assert fast({"code": " ab ", "kg": "2"}) == {"code": "ab", "kg": 2.0}
    assert fast({"code": "ab"}) == {"code": "ab", "kg": 1}


def test_input_drf_would_refuse_is_left_to_drf():
    fast = fast_validator(Parcel())

    assert [fast(data) for data in ({"code": "a7"}, {"code": "x" * 9}, {"kg": 1}, {"code": "ab", "kg": -1})] == [
        None,
        None,
        None,
        None,
    ]


def test_an_overridden_method_is_run_by_drf_itself():
    fast = fast_validator(UpperCaseParcel())

    assert fast({"code": "ab"}) == {"code": "AB", "kg": 1}


def test_a_serializer_checking_its_input_first_is_checked_on_the_fast_path_too():
    fast = fast_validator(CheckedParcel())

    assert [fast({"code": "ab"}), fast({"code": "ab", "weight": 2})] == [{"code": "ab", "kg": 1}, None]


def test_a_partial_update_is_left_to_drf():
    fast = fast_validator(Parcel(partial=True))

    assert fast({"kg": 3}) == {"kg": 3.0}
