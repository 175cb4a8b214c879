"""NumPy 1.26 -> 2.2: the NumPy 2.0 namespace clean-up (NEP 52) and the ``copy`` keyword change."""

from arenas.migration.catalog.base import Change, number_lists

NEP52 = "https://numpy.org/doc/stable/release/2.0.0-notes.html#numpy-2-0-python-api-removals"
NP = (("np", "numpy"),)

CHANGES = [
    Change(
        "numpy.float_", "numpy", "np.float_ was removed; use np.float64", NEP52, ("api:numpy.float_",),
        '''import numpy as np


def normalise_${value}s(values):
    """Scale the ${value} values of some ${things} to [0, 1] and report their spread."""
    arr = np.asarray(values, dtype=«np.float_¦np.float64»)
    low, high = arr.min(), arr.max()
    if high == low:
        scaled = np.zeros_like(arr)
    else:
        scaled = (arr - low) / (high - low)
    return {"scaled": scaled.round(4).tolist(), "spread": float(high - low),
            "dtype": str(scaled.dtype)}
''', "normalise_${value}s", "Rescales ${value} values of ${things} to the unit interval.", number_lists(), NP),
    Change(
        "numpy.product", "numpy", "np.product was removed; use np.prod", NEP52, ("api:numpy.product",),
        '''import numpy as np


def ${value}_growth(factors):
    """Compound growth of ${value} over periods, given per-period growth factors in percent."""
    ratios = 1 + np.asarray(factors, dtype=float) / 100.0
    total = «np.product(ratios)¦np.prod(ratios)»
    per_period = total ** (1.0 / len(ratios))
    return {"total": round(float(total), 6), "per_period": round(float(per_period), 6)}
''', "${value}_growth", "Compounds percentage growth factors of ${value} over periods.",
        number_lists(low=-5, high=15), NP),
    Change(
        "numpy.NaN", "numpy", "np.NaN was removed; use np.nan", NEP52, ("api:numpy.NaN",),
        '''import numpy as np


def clean_${value}s(values, threshold):
    """Replace ${value} readings above a threshold by missing values and average the rest."""
    arr = np.asarray(values, dtype=float)
    arr[arr > threshold] = «np.NaN¦np.nan»
    kept = int(np.count_nonzero(~np.isnan(arr)))
    mean = float(np.nanmean(arr)) if kept else None
    return {"kept": kept, "mean": None if mean is None else round(mean, 4)}
''', "clean_${value}s", "Drops ${value} readings above a threshold and averages the rest.",
        lambda rng, d: [f"{number_lists(1)(rng, d)[0]}, {rng.randint(5, 15)}" for _ in range(6)], NP),
    Change(
        "numpy.Inf", "numpy", "np.Inf was removed; use np.inf", NEP52, ("api:numpy.Inf",),
        '''import numpy as np


def nearest_${key}(positions, target):
    """Index and distance of the ${key} closest to a target position."""
    best, best_dist = -1, «np.Inf¦np.inf»
    for i, pos in enumerate(np.asarray(positions, dtype=float)):
        dist = abs(pos - target)
        if dist < best_dist:
            best, best_dist = i, dist
    return {"index": best, "distance": float(best_dist)}
''', "nearest_${key}", "Finds the ${key} nearest to a target position.",
        lambda rng, d: [f"{number_lists(1)(rng, d)[0]}, {rng.randint(0, 20)}" for _ in range(6)], NP),
    Change(
        "numpy.cumproduct", "numpy", "np.cumproduct was removed; use np.cumprod", NEP52, ("api:numpy.cumproduct",),
        '''import numpy as np


def running_${value}_index(changes):
    """A running index (base 100) of ${value} from per-period relative changes."""
    factors = 1 + np.asarray(changes, dtype=float) / 100.0
    path = 100.0 * «np.cumproduct(factors)¦np.cumprod(factors)»
    return [round(float(x), 4) for x in path]
''', "running_${value}_index", "Builds a base-100 running index of ${value}.",
        number_lists(low=-10, high=10), NP),
    Change(
        "numpy.alltrue", "numpy", "np.alltrue and np.sometrue were removed; use np.all / np.any", NEP52,
        ("api:numpy.alltrue", "api:numpy.sometrue"),
        '''import numpy as np


def check_${value}s(values, low, high):
    """Whether all / some ${value} values of the ${things} fall inside [low, high]."""
    arr = np.asarray(values)
    inside = (arr >= low) & (arr <= high)
    return {"all": bool(«np.alltrue(inside)¦np.all(inside)»),
            "any": bool(«np.sometrue(inside)¦np.any(inside)»),
            "count": int(inside.sum())}
''', "check_${value}s", "Checks ${value} values against a range.",
        lambda rng, d: [f"{number_lists(1)(rng, d)[0]}, {rng.randint(1, 8)}, {rng.randint(9, 20)}"
                        for _ in range(6)], NP),
    Change(
        "numpy.round_", "numpy", "np.round_ was removed; use np.round", NEP52, ("api:numpy.round_",),
        '''import numpy as np


def ${value}_buckets(values, width):
    """Round ${value} values to the nearest multiple of a bucket width and count per bucket."""
    arr = np.asarray(values, dtype=float)
    buckets = «np.round_(arr / width)¦np.round(arr / width)» * width
    labels, counts = np.unique(buckets, return_counts=True)
    return {str(float(k)): int(v) for k, v in zip(labels, counts)}
''', "${value}_buckets", "Counts ${value} values per bucket of a given width.",
        lambda rng, d: [f"{number_lists(1, floats=True)(rng, d)[0]}, {rng.choice([2, 5, 10])}" for _ in range(6)],
        NP),
    Change(
        "numpy.asfarray", "numpy", "np.asfarray was removed; use np.asarray(x, dtype=float)", NEP52,
        ("api:numpy.asfarray",),
        '''import numpy as np


def ${value}_zscores(values):
    """Standard scores of the ${value} values (population standard deviation)."""
    arr = «np.asfarray(values)¦np.asarray(values, dtype=float)»
    std = arr.std()
    if std == 0:
        return [0.0] * len(arr)
    return [round(float(z), 4) for z in (arr - arr.mean()) / std]
''', "${value}_zscores", "Computes standard scores of ${value} values.", number_lists(), NP),
    Change(
        "numpy.find_common_type", "numpy", "np.find_common_type was removed; use np.result_type", NEP52,
        ("api:numpy.find_common_type",),
        '''import numpy as np


def merge_${value}_columns(first, second):
    """Concatenate two ${value} columns into the narrowest dtype that holds both."""
    a, b = np.asarray(first), np.asarray(second)
    common = «np.find_common_type([a.dtype, b.dtype], [])¦np.result_type(a.dtype, b.dtype)»
    merged = np.concatenate([a.astype(common), b.astype(common)])
    return {"dtype": str(merged.dtype), "values": merged.tolist()}
''', "merge_${value}_columns", "Merges two ${value} columns with a common dtype.",
        lambda rng, d: [f"{number_lists(1)(rng, d)[0]}, {number_lists(1, floats=rng.random() < 0.5)(rng, d)[0]}"
                        for _ in range(6)], NP),
    Change(
        "numpy.complex_", "numpy", "np.complex_ was removed; use np.complex128", NEP52, ("api:numpy.complex_",),
        '''import numpy as np


def ${value}_phasors(amplitudes, phases_deg):
    """Sum of ${value} phasors given amplitudes and phase angles in degrees."""
    z = np.zeros(len(amplitudes), dtype=«np.complex_¦np.complex128»)
    for i, (a, p) in enumerate(zip(amplitudes, phases_deg)):
        z[i] = a * np.exp(1j * np.deg2rad(p))
    total = z.sum()
    return {"magnitude": round(float(abs(total)), 4), "angle": round(float(np.angle(total, deg=True)), 4)}
''', "${value}_phasors", "Adds ${value} phasors.",
        lambda rng, d: [f"{number_lists(1, 4, 4)(rng, d)[0]}, {[rng.randint(0, 359) for _ in range(4)]}"
                        for _ in range(6)], NP),
    Change(
        "numpy.unicode_", "numpy", "np.unicode_ was removed; use np.str_", NEP52, ("api:numpy.unicode_",),
        '''import numpy as np


def ${key}_codes(names):
    """Upper-case ${key} codes and the longest code length, as a NumPy string array."""
    arr = np.array([n[:3] for n in names], dtype=«np.unicode_¦np.str_»)
    codes = np.char.upper(arr)
    return {"codes": codes.tolist(), "longest": int(max(len(c) for c in codes)),
            "sorted": sorted(codes.tolist())}
''', "${key}_codes", "Builds short upper-case codes for ${key} names.",
        lambda rng, d: [repr(rng.sample(d["labels"], rng.randint(2, 5))) for _ in range(6)], NP),
    Change(
        "numpy.msort", "numpy", "np.msort was removed; use np.sort(a, axis=0)", NEP52, ("api:numpy.msort",),
        '''import numpy as np


def ${value}_percentile_table(values, cuts):
    """Sorted ${value} values and the value at each requested rank cut (0..1)."""
    ordered = «np.msort(np.asarray(values))¦np.sort(np.asarray(values), axis=0)»
    n = len(ordered)
    return {"sorted": ordered.tolist(),
            "cuts": [ordered[min(n - 1, int(c * n))].item() for c in cuts]}
''', "${value}_percentile_table", "Sorts ${value} values and reads rank cuts.",
        lambda rng, d: [f"{number_lists(1)(rng, d)[0]}, [0.25, 0.5, 0.9]" for _ in range(6)], NP),
    Change(
        "numpy.array_copy_false", "numpy",
        "np.array(..., copy=False) now raises when a copy is needed; use np.asarray",
        "https://numpy.org/doc/stable/numpy_2_0_migration_guide.html#adapting-to-changes-in-the-copy-keyword",
        ("kw:array:copy=False",),
        '''import numpy as np


def ${value}_matrix(rows):
    """Turn nested ${value} lists into a float matrix and return its row and column totals."""
    if not rows:
        return {"rows": [], "cols": [], "shape": [0, 0]}
    m = «np.array(rows, dtype=float, copy=False)¦np.asarray(rows, dtype=float)»
    return {"rows": m.sum(axis=1).tolist(), "cols": m.sum(axis=0).tolist(), "shape": list(m.shape)}
''', "${value}_matrix", "Totals a ${value} matrix by rows and columns.",
        lambda rng, d: [repr([[rng.randint(0, 9) for _ in range(3)] for _ in range(rng.randint(2, 4))])
                        for _ in range(6)], NP),
]
