"""The report's words in English and Swedish (placement kinds as design.md section 1 names them)."""

from __future__ import annotations

__all__ = ["LANGUAGES", "words"]

LANGUAGES = ("en", "sv")

_EN: dict[str, str] = {
    "title": "Placement plan",
    "subtitle": "{region}: {children} children, {homes} homes. Plan status: {status}.",
    "status.optimal": "optimal (proven)",
    "status.feasible": "feasible (time limit reached; not proven optimal)",
    "status.infeasible": "infeasible",
    "children": "children",
    "unplaced": "unplaced",
    "yearly_cost": "yearly cost",
    "per_child": "per child and year",
    "kind.kin": "kin homes",
    "kind.municipal": "own family homes",
    "kind.consultant": "consultant-supported homes",
    "kind.hvb": "HVB",
    "short.kin": "kin",
    "short.municipal": "own",
    "short.consultant": "consultant",
    "short.hvb": "HVB",
    "map": "Map",
    "map.caption": (
        "Municipalities shaded by the yearly cost per child placed from them. Lines join a child's municipality "
        "to the home's when a placement crosses a municipal border; their width is the number of children."
    ),
    "map.seats": "Municipalities are drawn as their seats: this region ships no borders.",
    "map.outside": "{n} children are placed in homes outside the map's municipalities (the national market).",
    "map.colorbar": "tkr per child and year",
    "map.no_children": "no children",
    "map.recommended": "recommended new homes",
    "map.children_line": "{n} children",
    "map.child_line": "1 child",
    "by_municipality": "Per municipality",
    "municipality": "municipality",
    "code": "code",
    "mkr": "Mkr",
    "tkr": "tkr",
    "total": "all",
    "why": "Why children end in HVB, consultant homes or unplaced",
    "why.hvb": "In HVB",
    "why.consultant": "In consultant-supported homes",
    "why.unplaced": "Unplaced",
    "reason": "reason",
    "count": "children",
    "none_here": "No children.",
    "explanations": "Every explanation",
    "explanations.note": "One sentence for every child in HVB or a consultant home and every unplaced child.",
    "child": "child",
    "placement": "placement",
    "home": "home",
    "explanation": "explanation",
    "cooperation": "Regional cooperation",
    "cooperation.intro": (
        "Yearly cost of each member on its own, and its share of the pooled cost by each method "
        "({method} method). Isolated: {isolated} Mkr; pooled: {pooled} Mkr; saving {saving} Mkr per year."
    ),
    "alone": "alone",
    "saving_vs_alone": "Shapley saving vs alone",
    "method.shapley": "Shapley",
    "method.population": "population",
    "method.usage": "usage",
    "method.nucleolus": "nucleolus",
    "core.in": "The {method} shares are in the core: no group of members would pay less on its own "
    "(the closest group, {members}, would pay {excess} Mkr more).",
    "core.out": "The {method} shares are not in the core: {members} would together pay {excess} Mkr less "
    "on their own, and would rather leave.",
    "recruitment": "Recruitment plan",
    "recruitment.intro": "Budget {budget} Mkr, spent {spent} Mkr (status: {status}). Recommended homes:",
    "recruitment.training": "Training years: {years}; mean yearly saving {saving} Mkr.",
    "recruitment.holdout": "Held-out years: {years}; mean yearly saving {mean} Mkr (p10 {p10}, p90 {p90}); "
    "baselines: {baselines}.",
    "profile": "profile",
    "homes_count": "homes",
    "places": "places",
    "mean_used": "mean places used",
    "marginal": "Value of one more home",
    "marginal.intro": "Yearly saving of one more home of each profile in each municipality, largest first "
    "(base: {base} Mkr per year). The five largest are marked on the map.",
    "yearly_saving": "yearly saving",
    "delta": "change",
    "footer": "Made by placering {version}. Children appear by pseudonymous id only. Cost per year = 365 × "
    "(cost per day + unplaced children × {unplaced} kr).",
    "rule.needs": "no cheaper home within reach covers the child's needs",
    "rule.care_level": "no cheaper home within reach takes the child's care level",
    "rule.age": "no cheaper home within reach takes the child's age",
    "rule.distance": "no cheaper home lies within the distance limit",
    "rule.pooling": "isolated pooling: no own home of the municipality fits",
    "rule.none": "no cheaper home exists for the child",
    "rule.kin": "no kin home is reserved for the child",
    "rule.full": "the suitable cheaper homes are full",
    "rule.siblings": "no suitable cheaper home has room for the whole sibling group",
    "rule.together": "no home suits every child of the sibling group together",
    "rule.objective": "the policy's objective ranks another term first",
    "rule.stability": "kept in the current placement",
    "rule.tie": "an equally good cheaper home exists (a tie under the objective)",
    "rule.other": "other",
    "and": "and",
}

_SV: dict[str, str] = {
    "title": "Placeringsplan",
    "subtitle": "{region}: {children} barn, {homes} hem. Planens status: {status}.",
    "status.optimal": "optimal (bevisad)",
    "status.feasible": "tillåten (tidsgränsen nåddes; inte bevisat optimal)",
    "status.infeasible": "omöjlig",
    "children": "barn",
    "unplaced": "utan placering",
    "yearly_cost": "kostnad per år",
    "per_child": "per barn och år",
    "kind.kin": "nätverkshem / släktinghem",
    "kind.municipal": "familjehem i egen regi",
    "kind.consultant": "konsulentstött familjehem",
    "kind.hvb": "HVB (hem för vård eller boende)",
    "short.kin": "nätverk",
    "short.municipal": "egen regi",
    "short.consultant": "konsulent",
    "short.hvb": "HVB",
    "map": "Karta",
    "map.caption": (
        "Kommunerna är färgade efter kostnaden per år för varje barn de placerar. Linjerna förbinder barnets "
        "kommun med hemmets när placeringen går över kommungränsen; bredden är antalet barn."
    ),
    "map.seats": "Kommunerna visas som sina centralorter: regionen har inga kommungränser.",
    "map.outside": "{n} barn är placerade i hem utanför kartans kommuner (den nationella marknaden).",
    "map.colorbar": "tkr per barn och år",
    "map.no_children": "inga barn",
    "map.recommended": "rekommenderade nya hem",
    "map.children_line": "{n} barn",
    "map.child_line": "1 barn",
    "by_municipality": "Per kommun",
    "municipality": "kommun",
    "code": "kod",
    "mkr": "mnkr",
    "tkr": "tkr",
    "total": "alla",
    "why": "Varför barn hamnar i HVB, konsulentstödda familjehem eller utan placering",
    "why.hvb": "I HVB",
    "why.consultant": "I konsulentstött familjehem",
    "why.unplaced": "Utan placering",
    "reason": "skäl",
    "count": "barn",
    "none_here": "Inga barn.",
    "explanations": "Alla förklaringar",
    "explanations.note": "En mening för varje barn i HVB eller konsulentstött familjehem och varje barn utan "
    "placering (förklaringarna skrivs på engelska).",
    "child": "barn",
    "placement": "placering",
    "home": "hem",
    "explanation": "förklaring",
    "cooperation": "Regional samverkan",
    "cooperation.intro": (
        "Varje medlems kostnad per år på egen hand, och dess andel av den gemensamma kostnaden enligt varje "
        "metod ({method}). Var för sig: {isolated} mnkr; tillsammans: {pooled} mnkr; besparing {saving} mnkr per år."
    ),
    "alone": "på egen hand",
    "saving_vs_alone": "besparing med Shapley",
    "method.shapley": "Shapley",
    "method.population": "befolkning",
    "method.usage": "nyttjande",
    "method.nucleolus": "nukleolus",
    "core.in": "Fördelningen enligt {method} ligger i kärnan: ingen grupp av medlemmar skulle betala mindre på "
    "egen hand (närmast är {members}, som skulle betala {excess} mnkr mer).",
    "core.out": "Fördelningen enligt {method} ligger inte i kärnan: {members} skulle tillsammans betala {excess} "
    "mnkr mindre på egen hand och vill hellre gå ur.",
    "recruitment": "Rekryteringsplan",
    "recruitment.intro": "Budget {budget} mnkr, använt {spent} mnkr (status: {status}). Rekommenderade hem:",
    "recruitment.training": "Träningsår: {years}; genomsnittlig besparing per år {saving} mnkr.",
    "recruitment.holdout": "Utvärderingsår: {years}; genomsnittlig besparing per år {mean} mnkr (p10 {p10}, "
    "p90 {p90}); jämförelser: {baselines}.",
    "profile": "profil",
    "homes_count": "hem",
    "places": "platser",
    "mean_used": "använda platser i snitt",
    "marginal": "Värdet av ett hem till",
    "marginal.intro": "Besparing per år av ett hem till av varje profil i varje kommun, störst först (bas: {base} "
    "mnkr per år). De fem största är markerade på kartan.",
    "yearly_saving": "besparing per år",
    "delta": "förändring",
    "footer": "Gjord med placering {version}. Barn visas endast med pseudonymt id. Kostnad per år = 365 × "
    "(kostnad per dygn + barn utan placering × {unplaced} kr).",
    "rule.needs": "inget billigare hem inom räckhåll täcker barnets behov",
    "rule.care_level": "inget billigare hem inom räckhåll tar barnets vårdnivå",
    "rule.age": "inget billigare hem inom räckhåll tar barnets ålder",
    "rule.distance": "inget billigare hem ligger inom avståndsgränsen",
    "rule.pooling": "ingen samverkan: inget eget hem i kommunen passar",
    "rule.none": "det finns inget billigare hem för barnet",
    "rule.kin": "inget nätverkshem är avsett för barnet",
    "rule.full": "de lämpliga billigare hemmen är fulla",
    "rule.siblings": "inget lämpligt billigare hem har plats för hela syskongruppen",
    "rule.together": "inget hem passar alla barn i syskongruppen tillsammans",
    "rule.objective": "policyns mål rangordnar en annan term först",
    "rule.stability": "bor kvar i sin nuvarande placering",
    "rule.tie": "ett lika bra billigare hem finns (lika enligt målet)",
    "rule.other": "annat",
    "and": "och",
}

_WORDS = {"en": _EN, "sv": _SV}


def words(lang: str) -> dict[str, str]:
    """The report's words in ``lang`` (``en`` or ``sv``)."""
    return _WORDS[lang]
