"""The forecast page: volume forecast against derived capacity per hub and day, drawn as SVG."""

from dataclasses import dataclass

from django.shortcuts import render

from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from dispatch.forecast.selectors import HubForecast, hub_forecast
from dispatch.network.selectors import hub_list

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 36


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    day: object


def chart(forecast: HubForecast) -> dict:
    """Geometry of the inline SVG: a bar per day (forecast) and a step line (capacity)."""
    days = forecast.days
    peak = max([d.forecast for d in days] + [d.capacity for d in days] + [1])
    top = peak * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(days))

    def y(value: float) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    bars, points = [], []
    for index, day in enumerate(days):
        x0 = LEFT + index * slot
        bars.append(
            Bar(
                round(x0 + slot * 0.15, 1),
                y(day.forecast),
                round(slot * 0.7, 1),
                round(TOP + plot_h - y(day.forecast), 1),
                round(x0 + slot / 2, 1),
                day,
            )
        )
        points += [f"{x0:.1f},{y(day.capacity)}", f"{x0 + slot:.1f},{y(day.capacity)}"]
    ticks = [{"y": y(v), "label": round(v)} for v in (0, peak / 2, peak)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "capacity_points": " ".join(points),
        "ticks": ticks,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "label_y": HEIGHT - BOTTOM + 16,
    }


@organization_page(roles=page_roles("dispatch-forecast"))
def forecast_page(request):
    hubs = []
    for hub in hub_list(organization=request.actor.organization):
        forecast = hub_forecast(hub=hub)
        hubs.append({"forecast": forecast, "chart": chart(forecast)})
    return render(request, "forecast/page.html", {"hubs": hubs})
