"""A real Open311 client against a live `jixiao serve`: the `georeport` package from
PyPI, which no one on this project wrote, in its JSON and XML modes.

Usage: python check.py BASE_URL API_KEY  (BASE_URL ends in /open311/v2)

Posts one request with the standard's form encoding (the package itself does not
post), then with the client: lists services, reads a service definition, lists
requests with each filter, fetches one request. Exits non-zero on the first failure.
"""

import os
import sys
from datetime import datetime, timedelta, timezone

import requests
from georeport import GeoReport

base, key = sys.argv[1], sys.argv[2]


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def as_list(x):
    """xmltodict gives a dict for a single element and a list for several."""
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


posted = requests.post(
    f"{base}/requests.json",
    data={"api_key": key, "service_code": "road", "lat": "30.5928", "long": "114.3055",
          "address_string": "江汉路88号", "description": "Open311 客户端测试：井盖缺失"},
)
check(posted.status_code == 200, f"POST requests.json answers 200 ({posted.status_code} {posted.text[:200]})")
case = posted.json()[0]["service_request_id"]
check(case.startswith("QK-"), f"the new request is {case}")

# The server's clock: the day scripts/open311-client-test starts it on, else now.
clock = os.environ.get("JIXIAO_CLOCK")
now = datetime.fromisoformat(clock).astimezone(timezone.utc) if clock else datetime.now(timezone.utc)
start = (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
end = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

for fmt in ("json", "xml"):
    client = GeoReport(base, output_format=fmt)
    services = as_list(client.get_service_list())
    codes = [s["service_code"] for s in services]
    check("road" in codes and len(codes) >= 10, f"[{fmt}] services: {len(codes)} including road")
    road = next(s for s in services if s["service_code"] == "road")
    check(road["service_name"] == "道路破损", f"[{fmt}] service_name in Chinese: {road['service_name']}")
    definition = client.get_service_definition("road")
    check(definition["service_code"] == "road", f"[{fmt}] service definition of road")
    listed = as_list(client.get_service_requests(service_code="road", start_date=start, end_date=end, status="open"))
    check(any(r["service_request_id"] == case for r in listed), f"[{fmt}] requests filtered by code, dates, status: {len(listed)}")
    check(all(r["service_code"] == "road" and r["status"] == "open" for r in listed), f"[{fmt}] every listed request matches the filters")
    # The demo's requests of January 2027 (an empty XML list reads as None in this
    # client, so ask where there are some).
    closed = as_list(client.get_service_requests(status="closed", service_code="water", start_date="2027-01-01T00:00:00+08:00", end_date="2027-01-31T00:00:00+08:00"))
    check(len(closed) > 20 and all(r["status"] == "closed" and r["service_code"] == "water" for r in closed), f"[{fmt}] closed water requests of January 2027: {len(closed)}")
    check(all("2027-01" in r["requested_datetime"] or "2026-12-31" in r["requested_datetime"] for r in closed), f"[{fmt}] all requested in the range")
    # Without dates: the last 90 days, where the demo has requests.
    recent = as_list(client.get_service_requests())
    check(len(recent) > 100, f"[{fmt}] requests of the last 90 days without dates: {len(recent)}")
    by_id = as_list(client.get_service_requests(service_request_id=case))
    check(len(by_id) == 1 and by_id[0]["service_request_id"] == case, f"[{fmt}] requests by service_request_id")
    one = client.get_service_request(case)
    check(one["service_request_id"] == case and one["description"] == "Open311 客户端测试：井盖缺失", f"[{fmt}] one request, text intact")
    check(str(one["lat"]).startswith("30.59"), f"[{fmt}] its location: {one['lat']}, {one['long']}")
    try:
        client.get_service_requests(start_date=(now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"), end_date=end)
        check(False, f"[{fmt}] a range over 90 days is refused")
    except requests.HTTPError as e:
        check(e.response.status_code == 400, f"[{fmt}] a range over 90 days is refused with 400")

print("georeport: all checks passed")
