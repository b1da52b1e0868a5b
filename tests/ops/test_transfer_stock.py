"""The JSON transfer keeps the stock set-up: presentation, GTIN, supplier, units counted,
clinic limits; a file written before those fields existed still imports."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from db.database import open_database
from db.ops import transfer
from db.store import ClinicLimitFields, ProductFields, Store, StrengthSpec
from formulary.records import Presentation
from formulary.units.amount import Amount

PASSWORD = "correct horse battery"


def _clinic(path: Path) -> str:
    database = open_database(path)
    store = Store(database)
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    (biotin,) = [i for i in store.list_ingredients(admin, "biotin") if i.key == "biotin"]
    product = store.add_product(
        admin,
        ProductFields(
            name="Biotin",
            presentation=Presentation.AMPOULE,
            volume_per_unit=Amount(Decimal(5), "mL"),
            ingredients=(StrengthSpec(biotin.id, Amount(Decimal(5), "mg/mL")),),
            gtin="5012345678900",
        ),
    )
    store.receive_lot(
        admin,
        product_id=product.id,
        lot_number="BT-1",
        expiry=date(2031, 1, 31),
        count=10,
        supplier="Wholesale",
    )
    store.add_clinic_limit(
        admin, biotin.id, ClinicLimitFields("session", Amount(Decimal(10), "mg"), "protocol 1")
    )
    text = transfer.dumps_document(transfer.export_document(database, admin))
    database.dispose()
    return text


def _import(path: Path, text: str) -> Store:
    database = open_database(path)
    store = Store(database)
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    transfer.import_document(database, admin, text, source_name="export.json")
    return store


def test_stock_set_up_survives_export_and_import(tmp_path: Path) -> None:
    text = _clinic(tmp_path / "a.db")
    store = _import(tmp_path / "b.db", text)
    admin = store.authenticate("admin", PASSWORD)
    (product,) = store.list_products(admin)
    assert product.presentation is Presentation.AMPOULE and product.gtin == "05012345678900"
    (lot,) = store.list_lots(admin)
    assert lot.supplier == "Wholesale" and lot.units_received == 10
    (limit,) = store.list_clinic_limits(admin)
    assert limit.ingredient_name == "Biotin" and limit.source == "protocol 1"


def test_a_file_from_before_the_stock_fields_still_imports(tmp_path: Path) -> None:
    document = json.loads(_clinic(tmp_path / "a.db"))
    records = document["records"]
    for product in records["products"]:
        for key in ("presentation", "gtin", "retired_reason"):
            del product[key]
    for lot in records["lots"]:
        del lot["supplier"], lot["units_received"]
    del records["clinic_limits"]
    store = _import(tmp_path / "b.db", json.dumps(document))
    admin = store.authenticate("admin", PASSWORD)
    (product,) = store.list_products(admin)
    assert product.presentation is None and product.gtin == ""
    (lot,) = store.list_lots(admin)
    assert lot.supplier == "" and lot.units_received is None
