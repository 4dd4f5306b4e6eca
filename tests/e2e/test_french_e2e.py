"""dnscheck in French, end to end: the installed command, `--lang fr` or the environment, against the lab.

`--lang fr` and `LANG=fr_FR.UTF-8` must give the same output; JSON must not change with the language except in the
words (`message`, `remediation`) and `summary.lang`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
M365_ZONE = str(ROOT / "fixtures" / "m365.zone")
FRENCH_ENV = {"LC_ALL": "", "LANG": "fr_FR.UTF-8"}  # conftest sets LC_ALL=C.UTF-8, which would win


def _same(a: Any, b: Any) -> None:
    assert (a.rc, a.stdout, a.stderr) == (b.rc, b.stdout, b.stderr)


def test_lang_fr_and_lang_environment_give_the_same_report_from_a_zone_file(dnscheck_offline) -> None:  # type: ignore[no-untyped-def]
    by_option = dnscheck_offline("check", "contoso.com", "--zone-file", M365_ZONE, "--lang", "fr")
    by_env = dnscheck_offline("check", "contoso.com", "--zone-file", M365_ZONE, env=FRENCH_ENV)
    _same(by_option, by_env)
    assert by_option.rc == 2
    assert "DOMAINE" in by_option.stdout and "bloqué" in by_option.stdout and "à faire :" in by_option.stdout
    assert "Bilan : bloqué" in by_option.stdout
    english = dnscheck_offline("check", "contoso.com", "--zone-file", M365_ZONE)
    assert "Overall: blocked" in english.stdout and english.rc == 2


def _lines(nagios: str) -> list[str]:
    """The lines and the codes in them, sorted: records (so findings) come in the order DNS gives them."""
    text = nagios.split(" time=")[0]
    return sorted(" ".join(sorted(re.split(r"[ ,()]+", line))) for line in text.splitlines())


def _words_removed(doc: Any) -> Any:
    """The report without what may differ between two runs or languages: the words and the timings."""
    if isinstance(doc, dict):
        return {
            k: _words_removed(v)
            for k, v in doc.items()
            if k not in ("message", "remediation", "lang", "elapsed_ms", "elapsed_s", "explain")
        }
    if isinstance(doc, list):
        return [_words_removed(v) for v in doc]
    return doc


def test_json_differs_only_in_messages_remediations_and_lang(dnscheck_offline) -> None:  # type: ignore[no-untyped-def]
    args = (
        "check",
        "contoso.com",
        "--zone-file",
        M365_ZONE,
        "-f",
        "json",
        "--changed-at",
        datetime.now(UTC).isoformat(timespec="seconds"),  # caches may still hold answers: CACHE_PENDING
    )
    en = json.loads(dnscheck_offline(*args, "--lang", "en").stdout)
    fr = json.loads(dnscheck_offline(*args, "--lang", "fr").stdout)
    assert en["summary"]["lang"] == "en" and fr["summary"]["lang"] == "fr"
    assert _words_removed(en) == _words_removed(fr)
    en_f, fr_f = en["results"][0]["findings"], fr["results"][0]["findings"]
    assert all(a["message"] != b["message"] for a, b in zip(en_f, fr_f, strict=True))
    cache = next(f for f in fr_f if f["code"] == "CACHE_PENDING")
    # The words in French (`27 novembre 2026 à 10:30 UTC`); the value in `safe_after` stays ISO 8601.
    assert re.search(r"jusqu'au \d{1,2} [a-zéû]+ \d{4} à \d\d:\d\d UTC", cache["message"]), cache["message"]
    assert fr["results"][0]["safe_after"] == en["results"][0]["safe_after"]


def test_csv_headers_and_values_stay_and_only_the_words_change(dnscheck_offline) -> None:  # type: ignore[no-untyped-def]
    args = ("check", "contoso.com", "--zone-file", M365_ZONE, "-f", "csv")
    en = dnscheck_offline(*args).stdout.splitlines()
    fr = dnscheck_offline(*args, "--lang", "fr").stdout.splitlines()
    assert en[0] == fr[0]
    assert [r.split(",")[:7] for r in en] == [r.split(",")[:7] for r in fr]


@pytest.mark.parametrize("domain", ["m365-legacy.com", "leftovers.org", "no-mail.org", "stale-secondary.com"])
def test_the_lab_in_french_by_option_and_by_environment(dnscheck, domain: str) -> None:  # type: ignore[no-untyped-def]
    by_option = dnscheck("check", domain, "--lang", "fr", "-f", "nagios")
    by_env = dnscheck("check", domain, "-f", "nagios", env=FRENCH_ENV)
    # The first line ends with the run's time, and findings of one severity come in the order of DNS records.
    assert by_option.rc == by_env.rc
    assert _lines(by_option.stdout) == _lines(by_env.stdout)
    english = dnscheck("check", domain, "-f", "nagios")
    assert english.rc == by_option.rc
    assert english.stdout.split(" - ")[0] == by_option.stdout.split(" - ")[0]  # DNSCHECK CRITICAL: unchanged


def test_explain_in_french(dnscheck) -> None:  # type: ignore[no-untyped-def]
    run = dnscheck("check", "stale-secondary.com", "--explain", "--lang", "fr")
    assert "interrogé résolveur" in run.stdout and "constats :" in run.stdout and "verdict : " in run.stdout


def test_watch_in_french(dnscheck) -> None:  # type: ignore[no-untyped-def]
    run = dnscheck(
        "watch", "leftovers.org", "--until", "warning", "--interval", "1s", "--max-wait", "5s", "--lang", "fr"
    )
    assert run.rc == 1, run.stderr
    assert "leftovers.org : " not in run.stdout  # the domain's own line keeps "domain: verdict"
    assert "leftovers.org: avertissement" in run.stdout
    assert "le domaine a atteint avertissement ou mieux" in run.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ("--lang", "fr", "check", "--help"),
        ("check", "--help", "--lang", "fr"),
        ("check", "--lang=fr", "--help"),
    ],
)
def test_help_in_french_whatever_the_order(dnscheck_offline, argv: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    run = dnscheck_offline(*argv)
    by_env = dnscheck_offline("check", "--help", env=FRENCH_ENV)
    assert run.rc == 0
    assert run.stdout == by_env.stdout
    assert "Vérifier si des enregistrements" in run.stdout and "Codes de sortie" in run.stdout
    assert "Langue du rapport" in run.stdout
    assert "Utilisation :" in run.stdout and "Afficher ce message et quitter." in run.stdout  # click's own words


def test_the_command_list_and_watch_help_in_french(dnscheck_offline) -> None:  # type: ignore[no-untyped-def]
    top = dnscheck_offline("--help", env=FRENCH_ENV)
    assert (
        "Un domaine personnalisé pointe-t-il encore" in top.stdout and "Revérifier les DOMAINs" in top.stdout
    )
    watch = dnscheck_offline("watch", "--help", "--lang", "fr")
    assert "Revérifier les DOMAINs" in watch.stdout and "Intervalle entre deux" in watch.stdout


def test_an_unknown_lang_is_a_usage_error_and_an_unknown_locale_is_english(dnscheck_offline) -> None:  # type: ignore[no-untyped-def]
    bad = dnscheck_offline("check", "contoso.com", "--zone-file", M365_ZONE, "--lang", "de")
    assert bad.rc == 64 and "--lang" in bad.stderr and not bad.stdout
    french_bad = dnscheck_offline("check", "contoso.com", "--mode", "bogus", env=FRENCH_ENV)
    assert french_bad.rc == 64 and "Valeur invalide pour '--mode'" in french_bad.stderr
    german = dnscheck_offline(
        "check", "contoso.com", "--zone-file", M365_ZONE, env={"LC_ALL": "", "LANG": "de_DE.UTF-8"}
    )
    assert german.rc == 2 and "Overall: blocked" in german.stdout


def test_errors_of_dnscheck_s_own_in_french(dnscheck_offline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = dnscheck_offline("check", "--input", str(tmp_path / "absent.txt"), "--lang", "fr")
    assert run.rc == 64
    assert run.stderr.startswith("dnscheck : erreur : impossible de lire --input ")
    empty = tmp_path / "empty.zone"
    empty.write_text("\n")
    run = dnscheck_offline("check", "contoso.com", "--zone-file", str(empty), env=FRENCH_ENV)
    assert run.rc == 64 and "le fichier de zone est vide" in run.stderr
    run = dnscheck_offline("check", "--lang", "fr")
    assert run.rc == 64 and "indiquez au moins un DOMAIN" in run.stderr


def _readme_french_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## En français", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if "dnscheck " in line and "pip install" not in line]


@pytest.mark.parametrize("line", _readme_french_commands())
def test_the_readme_s_french_commands_work_as_written(dnscheck_offline, line: str) -> None:  # type: ignore[no-untyped-def]
    import shlex

    command, _, comment = line.partition("#")
    words = shlex.split(command)
    env = dict(w.split("=", 1) for w in words if "=" in w and w.split("=")[0].isupper())
    args = [w for w in words if w.split("=")[0] not in env][1:]  # after `dnscheck`
    expected = int(m.group(1)) if (m := re.search(r"code de sortie (\d+)", comment)) else 0
    run = dnscheck_offline(*args, env={"LC_ALL": "", **env})
    assert run.rc == expected, run.stderr
    assert re.search(r"\b(sûr|bloqué|Vérifier|ÉTAPE)\b", run.stdout), run.stdout
    assert "Overall" not in run.stdout and "Update the MX record" not in run.stdout  # nothing left in English


RUNBOOK = ("runbook", "contoso.com", "--purchased", "2026-01-15", "--licenses", "12")


def test_the_runbook_in_french_by_option_and_by_environment(dnscheck, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    by_option = dnscheck(*RUNBOOK, "--lang", "fr")
    by_env = dnscheck(*RUNBOOK, env=FRENCH_ENV)
    english = dnscheck(*RUNBOOK)
    assert by_option.rc == by_env.rc == english.rc
    strip = re.compile(r"\d{1,2} [a-zéû]+ \d{4} à \d\d:\d\d UTC")  # the check's own time differs between runs
    assert strip.sub("T", by_option.stdout) == strip.sub("T", by_env.stdout)
    assert "Mettre à jour l'enregistrement MX" in by_option.stdout and "ÉTAPE" in by_option.stdout
    markdown = dnscheck(*RUNBOOK, "--lang", "fr", "-f", "markdown")
    assert "## Étapes" in markdown.stdout and "Update the MX record" not in markdown.stdout


def test_the_runbook_s_json_and_state_file_do_not_depend_on_the_language(dnscheck, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "cancel.json"
    fr = json.loads(dnscheck(*RUNBOOK, "--state", str(state), "-f", "json", "--lang", "fr").stdout)
    saved = state.read_text(encoding="utf-8")
    assert not re.search(r"[éèàùç]", saved), "the state file must not store translated text"
    en = json.loads(dnscheck(*RUNBOOK, "-f", "json").stdout)
    for a, b in zip(en["steps"], fr["steps"], strict=True):
        assert (a["id"], a["status"], a["waits_for"], [m["id"] for m in a["messages"]]) == (
            b["id"],
            b["status"],
            b["waits_for"],
            [m["id"] for m in b["messages"]],
        )
    assert (
        en["exit_code"] == fr["exit_code"] and en["cancellation"]["channel"] == fr["cancellation"]["channel"]
    )
