"""Column expressions shared by the transforms: stable ids, times, strict number parsing.

`fact_id` reproduces ingestion.enrich.fact_row_id in Spark SQL (UUID5 = SHA-1 of namespace + name with the
version and variant bits set), so history and stream give the same ids without a Python UDF per row.
Only `python_float_str` runs Python (a vectorised pandas UDF): Java and Python print some doubles differently
(1.0E7 vs 10000000.0), and the assessment id must use Python's spelling.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ingestion.enrich import EVENT_NAMESPACE

MAX_EPOCH_MS = 32503680000000  # year 3000, the stream's upper bound (ingestion.events.EpochMillis)
MAX_KEY_LENGTH = 256  # ingestion.events.NonEmptyStr
DAY_MS = 86_400_000


def uuid5_digest(name: Column) -> Column:
    """SHA-1 (hex) of EVENT_NAMESPACE + the UTF-8 name: the 160 bits a UUID5 is cut from."""
    return F.sha1(F.concat(F.lit(bytearray(EVENT_NAMESPACE.bytes)), F.encode(name, "UTF-8")))


def _ascii(text: str) -> Column:
    return F.lit(bytearray(text.encode("ascii")))


def uuid_from_digest(digest: Column) -> Column:
    """The hyphenated UUID5 string from `uuid5_digest`. Keep the digest in a column of its own (see
    `with_fact_digest`): it is read several times here and Spark would otherwise hash each time.

    Cut as bytes: the digest is 40 ASCII hex characters, and a string substring counts characters from the
    start each time (six of them cost five times the SHA-1 itself; byte slices are plain copies)."""
    raw = digest.cast("binary")

    def part(start: int, length: int) -> Column:
        return F.substring(raw, start + 1, length)

    nibble = part(16, 1)  # the variant: (nibble & 0x3) | 0x8
    variant = F.when(nibble.isin(*map(_ascii, "048c")), _ascii("8")).when(
        nibble.isin(*map(_ascii, "159d")), _ascii("9")).when(
        nibble.isin(*map(_ascii, "26ae")), _ascii("a")).otherwise(_ascii("b"))
    return F.concat(part(0, 8), _ascii("-"), part(8, 4), _ascii("-5"), part(13, 3), _ascii("-"), variant,
                    part(17, 3), _ascii("-"), part(20, 12)).cast("string")


def uuid5(name: Column) -> Column:
    """uuid.uuid5(EVENT_NAMESPACE, name) as a lowercase hyphenated string."""
    return uuid_from_digest(uuid5_digest(name))


def fact_name(eid: str | Column, *natural_key: Column) -> Column:
    """The name ingestion.enrich.fact_row_id hashes: '|'-joined key, None spelled as the empty string."""
    head = F.lit(eid) if isinstance(eid, str) else eid
    return F.concat_ws("|", head, *(F.coalesce(part.cast("string"), F.lit("")) for part in natural_key))


def fact_id(eid: str | Column, *natural_key: Column) -> Column:
    """ingestion.enrich.fact_row_id as a column expression."""
    return uuid5(fact_name(eid, *natural_key))


def with_fact_digest(df: DataFrame, column: str, eid: str | Column, *natural_key: Column) -> DataFrame:
    """Adds the digest of a fact id as its own column; the optimizer keeps a non-cheap expression that is
    read several times in its own projection, so the SHA-1 is computed once per row."""
    return df.withColumn(column, uuid5_digest(fact_name(eid, *natural_key)))


def python_float_str(column: Column) -> Column:
    """str(float) exactly as Python spells it (the stream's ids are built with str())."""

    # Defined inside the function so cloudpickle ships it by value: executors need pandas, not this package.
    def spell(values: pd.Series) -> pd.Series:
        return values.map(lambda v: None if pd.isna(v) else str(float(v)))

    return F.pandas_udf(spell, T.StringType())(column)  # type: ignore[call-overload]


def strict_long(column: str, dtype: T.DataType) -> Column:
    """An integral value, or null when the text is not an integer ("2.0", "two" and " 2" are not)."""
    col = F.col(column)
    if isinstance(dtype, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return col.cast("long")
    text = col.cast("string")
    return F.when(text.rlike(r"^-?[0-9]{1,18}$"), text.cast("long"))


def strict_double(column: str, dtype: T.DataType) -> Column:
    """A finite number, or null (NaN, infinities and text that is not a number give null)."""
    col = F.col(column)
    if isinstance(dtype, T.NumericType):
        value = col.cast("double")
    else:
        text = F.trim(col.cast("string"))
        value = F.when(text.rlike(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"), text.cast("double"))
    return F.when(~F.isnan(value) & (F.abs(value) < F.lit(float("inf"))), value)


def epoch_ms(column: str, dtype: T.DataType) -> Column:
    """Epoch millis from a timestamp, a number of millis, or text (digits = millis, else ISO-8601; a time
    without an offset is UTC). Null when absent *or* unparseable: see `is_bad_time` to tell them apart."""
    col = F.col(column)
    if isinstance(dtype, (T.TimestampType, T.TimestampNTZType)):
        value = F.unix_millis(col.cast("timestamp"))
    elif isinstance(dtype, T.DateType):
        value = F.unix_millis(col.cast("timestamp"))
    elif isinstance(dtype, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        value = col.cast("long")
    else:
        text = F.trim(col.cast("string"))
        value = F.when(text.rlike(r"^[0-9]{1,16}$"), text.cast("long")).otherwise(
            F.unix_millis(F.expr(f"try_cast(trim(`{column}`) as timestamp)")))
    return F.when(value.between(0, MAX_EPOCH_MS), value)


def is_bad_time(column: str, dtype: T.DataType) -> Column:
    """Present (not null, not blank) but not a usable time."""
    present = F.col(column).isNotNull()
    if isinstance(dtype, T.StringType):
        present = present & (F.trim(F.col(column)) != "")
    return present & epoch_ms(column, dtype).isNull()


def utc_day(ets: Column) -> Column:
    """The UTC calendar day of an epoch-millis value, whatever the session time zone."""
    return F.date_from_unix_date(F.floor(ets / DAY_MS).cast("int"))
