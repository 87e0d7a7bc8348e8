"""China's national codes as the contracts check them: the check character of a unified social
credit code (GB 32100-2015), the check digit of a resident ID number (GB 11643-1999), and the
province and Jiangsu city prefixes of administrative division codes (GB/T 2260)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# GB/T 2260 province-level codes (first two digits) and Jiangsu's 13 prefecture-level cities.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
JIANGSU_CITY_PREFIXES = frozenset(f"32{i:02d}" for i in range(1, 14))

GB32100_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
GB11643_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
GB11643_CHECK = "10X98765432"


def gb32100_check_char(first17: str) -> str:
    """Check character of an 18-character unified social credit code (GB 32100-2015)."""
    total = sum(GB32100_CHARSET.index(ch) * w for ch, w in zip(first17, GB32100_WEIGHTS, strict=True))
    return GB32100_CHARSET[(31 - total % 31) % 31]


def gb11643_check_digit(first17: str) -> str:
    """Check digit of an 18-digit resident ID number (GB 11643-1999)."""
    return GB11643_CHECK[sum(int(ch) * w for ch, w in zip(first17, GB11643_WEIGHTS, strict=True)) % 11]


def _char_matrix(values: pd.Series, width: int) -> np.ndarray:
    """Strings of equal `width` → (n, width) array of code points."""
    joined = "".join(values.tolist())
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).reshape(-1, width)


def gb32100_valid(values: pd.Series) -> np.ndarray:
    """Whether each 18-character code (shape already checked) has its GB 32100 check character."""
    lut = np.full(128, -1, dtype=np.int64)
    for i, ch in enumerate(GB32100_CHARSET):
        lut[ord(ch)] = i
    codes = lut[_char_matrix(values, 18)]
    expected = (31 - (codes[:, :17] @ GB32100_WEIGHTS) % 31) % 31
    return expected == codes[:, 17]


def gb11643_valid(values: pd.Series) -> np.ndarray:
    """Whether each 18-character ID number (shape already checked) has its GB 11643 check digit."""
    chars = _char_matrix(values, 18)
    digits = chars[:, :17].astype(np.int64) - ord("0")
    expected = np.frombuffer(GB11643_CHECK.encode("utf-32-le"), dtype=np.uint32)[(digits @ GB11643_WEIGHTS) % 11]
    return expected == chars[:, 17]
