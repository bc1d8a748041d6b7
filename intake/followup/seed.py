"""The promise the service was built from: Medborgarlöfte 2021–2022, Älvsbyn (seed document).

Loaded by `flask --app intake setup` when no promise exists. Wording as in the document.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from intake import clock
from intake.extensions import db
from intake.followup.models import (
    ANY_DIALOGUE,
    AT_LEAST_PER_YEAR,
    BOTH,
    BOTH_HOSTS,
    FROM_DIALOGUES,
    MUNICIPALITY,
    ONCE,
    ONCE_PER_YEAR,
    ONGOING,
    POLICE,
    Activity,
    Commitment,
    Promise,
)

INTRODUCTION = (
    "Polisen och Älvsbyns kommun ska arbeta för en ökad trygghet genom att ha en god "
    "tillgänglighet samt arbeta förebyggande vid trafikproblem och mot droger."
)

COMMITMENTS = (
    (
        "Polisen och kommunen skall minst två gånger per år genomföra medborgardialoger. "
        "Digitalt eller fysiska möte om pandemin tillåter detta.",
        "Tillgänglighet & trygghet",
        BOTH,
        AT_LEAST_PER_YEAR,
        2,
        "Medborgardialoger som polisen och kommunen hållit tillsammans (rapport efter "
        "dialogen, markerad som hållen, med båda som arrangörer).",
        FROM_DIALOGUES,
    ),
    (
        "Älvsbyns kommun skall införa en digital tjänst för orosanmälan till socialtjänsten "
        "i kommunen.",
        "Tillgänglighet & trygghet",
        MUNICIPALITY,
        ONCE,
        None,
        "Att e-tjänsten för orosanmälan har införts.",
        "activities",
    ),
    (
        "Polisen och kommunen ska arbeta aktivt mot droger i och kring skolmiljöer.",
        "Droger",
        BOTH,
        ONGOING,
        None,
        "Insatser mot droger i och kring skolmiljöer.",
        "activities",
    ),
    (
        "Polishundar kommer att användas för att vid minst 2 tillfällen / år för att söka "
        "efter droger i skolmiljöer.",
        "Droger",
        POLICE,
        AT_LEAST_PER_YEAR,
        2,
        "Tillfällen då polishund sökt efter droger i en skolmiljö.",
        "activities",
    ),
    (
        # The document's own spelling; residents see it corrected, with a note
        # (intake.followup.wording).
        "Kommunen kommer att göra en droganeundersökning varje år på skolorna i kommunen.",
        "Droger",
        MUNICIPALITY,
        ONCE_PER_YEAR,
        None,
        "Genomförd drogvaneundersökning.",
        "activities",
    ),
    (
        "Polisen ska vid minst 10 tillfällen / år utföra trafikkontroller vid skolor i "
        "Älvsbyn för att trygga trafikmiljön vid skolorna.",
        "Trafik",
        POLICE,
        AT_LEAST_PER_YEAR,
        10,
        "Trafikkontroller vid skolor.",
        "activities",
    ),
)


def load_seed_promise() -> Promise | None:
    """Create the 2021–2022 promise if there is no promise yet (caller commits)."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Promise)):
        return None
    promise = Promise(
        title="Medborgarlöfte 2021–2022",
        municipality="Älvsbyns kommun",
        police_area="Lokalpolisområde Piteå älvdal",
        introduction=INTRODUCTION,
        valid_from=date(2021, 1, 1),
        valid_to=date(2022, 12, 31),
        until_replaced=True,
        signed_on=date(2021, 2, 16),
        signatories=[
            {"name": "Tomas Egmark", "role": "Kommunalråd Älvsbyn"},
            {"name": "Andreas Nyberg", "role": "Lokalpolisområdeschef Piteå Älvdal"},
        ],
        created_at=clock.now(),
    )
    for position, (text, area, party, kind, target, counts, source) in enumerate(COMMITMENTS, 1):
        promise.commitments.append(
            Commitment(
                position=position,
                text=text,
                area=area,
                party=party,
                target_type=kind,
                target=target,
                counts_what=counts,
                source=source,
                # "Polisen och kommunen … genomföra medborgardialoger": their joint ones.
                counting_rule=BOTH_HOSTS if source == FROM_DIALOGUES else ANY_DIALOGUE,
            )
        )
    db.session.add(promise)
    db.session.flush()
    # This installation is the digital orosanmälan service the promise asks for.
    service_commitment = promise.commitments[1]
    db.session.add(
        Activity(
            commitment_id=service_commitment.id,
            occurred_on=clock.local_date(clock.now()),
            count=1,
            place="",
            note="E-tjänsten för orosanmälan togs i drift (intake).",
            recorded_at=clock.now(),
        )
    )
    return promise
