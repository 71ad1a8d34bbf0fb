"""Near-duplicate clustering: the same ad with another price, handle or emoji is one cluster;
other texts are not; signatures are the same in every process."""

import subprocess
import sys

import numpy as np

from pipelines.neardup import MemoryBandStore, NearDuplicateIndex, Signer, text_shape

AD = ("🔥 Мефедрон VHQ в наличии 🔥 1г — 15 000 тг, 2г — 27 000 тг. Клады по Алматы: магнит, "
      "прикоп. Заказ через бота @kristall_demo_bot, оплата BTC")
VARIANT = ("Мефедрон VHQ в наличии ✅ 1г — 17 000 тг, 2г — 30 000 тг. Клады по Алматы: магнит, "
           "прикоп. Заказ через бота @other_shop_bot, оплата BTC")
OTHER = "Продам велосипед Stels в хорошем состоянии, Алматы, самовывоз, торг уместен"


def test_shape_drops_prices_handles_and_links():
    assert text_shape("Цена 15 000 тг! Пиши @shop_bot или https://x.kz/a") == \
        "цена ‹n›тг пиши ‹handle› или ‹url›"


def test_variants_cluster_and_other_texts_do_not():
    index = NearDuplicateIndex(MemoryBandStore())
    assert index.assign(1, AD).cluster == 1
    joined = index.assign(2, VARIANT)
    assert joined.cluster == 1 and joined.similarity >= 0.6
    assert index.assign(3, OTHER).cluster == 3
    assert index.assign(4, "ok").cluster is None  # too short to compare


def test_signatures_are_stable_across_processes():
    here = Signer().signature(AD)
    code = ("from pipelines.neardup import Signer; import sys; "
            f"sys.stdout.write(Signer().signature({AD!r}).tobytes().hex())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert np.array_equal(here, np.frombuffer(bytes.fromhex(other), dtype=np.uint32))


def test_many_unrelated_posts_stay_apart():
    import random

    rng = random.Random(5)
    alphabet = "абвгдежзийклмнопрстуфхцчшщыэюя"
    vocabulary = ["".join(rng.choice(alphabet) for _ in range(rng.randint(4, 9)))
                  for _ in range(3000)]
    index = NearDuplicateIndex(MemoryBandStore())
    texts = [" ".join(rng.choice(vocabulary) for _ in range(25)) for _ in range(2000)]
    clusters = {index.assign(i, text).cluster for i, text in enumerate(texts)}
    assert len(clusters) >= 1990


def test_batch_signatures_equal_datasketch_one_at_a_time():
    signer = Signer()
    texts = [AD, VARIANT, OTHER, "ok", "Курьер керек, төлем күн сайын " * 20, "🔥" * 50]
    batch = signer.signatures(texts)
    for text, signature in zip(texts, batch, strict=True):
        reference = signer.minhash(text)
        if reference is None:
            assert signature is None
        else:
            assert np.array_equal(reference.hashvalues.astype(np.uint32), signature)
