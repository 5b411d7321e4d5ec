"""How often legacy-encoding detection reads an export back wrong, per code page.

For each code page in `encoding_corpus.CORPORA`, `--files` random exports per seed (2 to
`--max-rows` lines, header included, log-uniform; in one of the page's languages) are encoded
in it and detected twice: by the rule `_detect` had before commit ea056ad (charset-normalizer's best
match; cp1252 only on an exact tie), and by today's `detect_legacy`. A detection is wrong when
decoding the bytes with it does not give back the text that was saved (so cp936 for gbk is
right). Seeds are fixed, so two runs on one checkout print the same table.

    .venv/bin/python bench/encodings.py [--seeds 0 1 2 3] [--files 60] [--show 5]
"""

from __future__ import annotations

import argparse
import codecs
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from charset_normalizer import from_bytes  # noqa: E402
from encoding_corpus import CORPORA, export  # noqa: E402

from workers.files.code_pages import detect_legacy  # noqa: E402

Detector = Callable[[bytes], "str | None"]


def old_rule(head: bytes) -> str | None:
    """`_detect` before ea056ad: the best match, Windows-1252 when it ties with it exactly."""
    matches = from_bytes(head)
    best = matches.best()
    if best is None:
        return None
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        return "cp1252"
    return codecs.lookup(best.encoding).name


def reads_back(data: bytes, text: str, detected: str | None) -> bool:
    if detected is None:
        return False
    try:
        return data.decode(detected) == text
    except UnicodeDecodeError:
        return False


def lines(rng: random.Random, most: int) -> int:
    """2 to `most`, log-uniform: as many files of 2-3 lines as of 50-100, as uploads go."""
    return min(most, int(2 ** rng.uniform(1, math.log2(most + 1))))


def samples(page: str, seeds: list[int], files: int, max_rows: int) -> list[str]:
    texts = []
    for seed in seeds:
        # One stream per (seed, page): adding a code page does not change another's files.
        rng = random.Random(f"{seed}:{page}")
        for _ in range(files):
            language = rng.choice(CORPORA[page])
            texts.append(export(rng, language, lines(rng, max_rows)))
    return texts


def wrong(page: str, texts: list[str], detect: Detector) -> list[tuple[str, str | None]]:
    misses = []
    for text in texts:
        data = text.encode(page)
        detected = detect(data)
        if not reads_back(data, text, detected):
            misses.append((text, detected))
    return misses


def summary(misses: list[tuple[str, str | None]]) -> str:
    pages = Counter(str(detected) for _, detected in misses)
    return f"{len(misses):>4}  " + ", ".join(f"{p} x{n}" for p, n in pages.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--files", type=int, default=60, help="files per seed and code page")
    parser.add_argument("--max-rows", type=int, default=100)
    parser.add_argument("--pages", nargs="+", default=list(CORPORA))
    parser.add_argument("--show", type=int, default=0, help="print up to N wrong files per rule")
    args = parser.parse_args()
    rules: dict[str, Detector] = {
        "old rule (before ea056ad)": old_rule,
        "detect_legacy": detect_legacy,
    }
    started = time.monotonic()
    print(f"seeds {args.seeds}, {args.files} files per seed, 2-{args.max_rows} lines each")
    for page in args.pages:
        texts = samples(page, args.seeds, args.files, args.max_rows)
        print(f"\n{page}: {len(texts)} files")
        for name, detect in rules.items():
            misses = wrong(page, texts, detect)
            print(f"  {name:<26} wrong {summary(misses)}")
            for text, detected in misses[: args.show]:
                print(f"      as {detected}: {text[:70]!r}")
    print(f"\n{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
