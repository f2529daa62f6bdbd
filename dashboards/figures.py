"""Plotly figures in the XueJi look: one template, and builders that never fail on empty or
suppressed data (a "<5" cell is not plotted; the card says how many were hidden)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from .i18n import t

FONT = (
    '"PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", '
    '"Helvetica Neue", Arial, sans-serif'
)
NAVY = "#0f2d52"
BLUE = "#1f5fae"
RED = "#c8102e"
GOLD = "#d9a521"
GREEN = "#2e8b57"
GREY = "#9aa7b8"
PALETTE = [BLUE, "#e07b39", GREEN, RED, "#7b5ea7", GOLD, "#3aa6b9", "#8c564b", GREY, NAVY]
STAGE_COLORS = {"primary": BLUE, "junior": "#e07b39", "senior": GREEN, "all": NAVY}
SEX_COLORS = {"1": BLUE, "2": "#d0527a"}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT, "size": 12, "color": "#1c2636"},
        colorway=PALETTE,
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        margin={"l": 64, "r": 24, "t": 16, "b": 56},
        hoverlabel={"font": {"family": FONT}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        xaxis={
            "showgrid": False,
            "linecolor": "#c9d2df",
            "ticks": "outside",
            "tickcolor": "#c9d2df",
            "title": {"font": {"size": 12, "color": "#5b6b80"}},
            "automargin": True,
            "separatethousands": True,
        },
        yaxis={
            "gridcolor": "#eef1f6",
            "zerolinecolor": "#c9d2df",
            "title": {"font": {"size": 12, "color": "#5b6b80"}},
            "automargin": True,
            "separatethousands": True,
        },
        bargap=0.28,
    )
)


def graph_config(filename: str) -> dict[str, Any]:
    """dcc.Graph config: a quiet modebar whose camera saves a PNG named after the chart
    (rendered by Plotly in the browser: no server-side image export)."""
    return {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToRemove": [
            "select2d",
            "lasso2d",
            "autoScale2d",
            "toggleSpikelines",
            "hoverClosestCartesian",
            "hoverCompareCartesian",
        ],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }


def base(height: int = 340, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, height=height, **layout)
    return fig


def empty(message: str | None = None, hint: str | None = None, height: int = 300) -> go.Figure:
    """A designed empty state inside the chart area."""
    fig = base(height=height)
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        annotations=[
            {
                "text": "◌",
                "x": 0.5,
                "y": 0.66,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 40, "color": "#c3cedd"},
            },
            {
                "text": f"<b>{message or t('no_data')}</b>",
                "x": 0.5,
                "y": 0.45,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 15, "color": "#44546a"},
            },
            {
                "text": hint or t("no_data_hint"),
                "x": 0.5,
                "y": 0.32,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 12, "color": "#7a8aa0"},
            },
        ],
    )
    return fig


def number(value: Any) -> float | None:
    """A plottable number, or None for "<5", None and anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        from decimal import Decimal

        if isinstance(value, Decimal):
            return float(value)
    except ImportError:  # pragma: no cover
        pass
    return None


def bar(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any], str | None]],
    *,
    y_title: str,
    x_title: str = "",
    horizontal: bool = False,
    stacked: bool = False,
    percent: bool = False,
    height: int = 340,
    texts: bool = True,
) -> go.Figure:
    """Grouped (or stacked) bars; `series` = (name, values, color)."""
    fig = base(height=height)
    for name, values, color in series:
        ys = [number(v) for v in values]
        shown = [(v * 100 if percent and v is not None else v) for v in ys]
        text = [
            ("<5" if raw == "<5" else "")
            if v is None
            else (f"{v:.1f}%" if percent else f"{v:,.0f}")
            for v, raw in zip(shown, values, strict=True)
        ]
        kwargs: dict[str, Any] = {
            "name": name,
            "marker": {"color": color} if color else {},
            "hovertemplate": "%{fullData.name}<br>%{"
            + ("y" if horizontal else "x")
            + "}: %{"
            + ("x" if horizontal else "y")
            + (":.1f}%" if percent else ":,}")
            + "<extra></extra>",
        }
        if texts:
            # Rates are often small: print them above the bar, where a 0.0 % still shows.
            kwargs.update(
                text=text, textposition="outside" if percent else "auto", cliponaxis=False
            )
        if horizontal:
            fig.add_trace(go.Bar(y=list(categories), x=shown, orientation="h", **kwargs))
        else:
            fig.add_trace(go.Bar(x=list(categories), y=shown, **kwargs))
    value_axis = {"title": {"text": y_title}, "rangemode": "tozero"}
    if percent:
        value_axis["ticksuffix"] = "%"
    cat_axis: dict[str, Any] = {"title": {"text": x_title}, "type": "category"}
    if horizontal:
        cat_axis["autorange"] = "reversed"
        fig.update_layout(xaxis=value_axis, yaxis=cat_axis)
        fig.update_xaxes(showgrid=True, gridcolor="#eef1f6")
        fig.update_yaxes(showgrid=False)
    else:
        fig.update_layout(xaxis=cat_axis, yaxis=value_axis)
    fig.update_layout(
        barmode="stack" if stacked else "group",
        showlegend=len(series) > 1,
        legend={"traceorder": "normal"},
    )
    return fig


def line(
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any], str | None]],
    *,
    y_title: str,
    x_title: str = "",
    percent: bool = False,
    height: int = 340,
) -> go.Figure:
    fig = base(height=height)
    for name, values, color in series:
        ys = [number(v) for v in values]
        if percent:
            ys = [v * 100 if v is not None else None for v in ys]
        fig.add_trace(
            go.Scatter(
                x=list(xs),
                y=ys,
                name=name,
                mode="lines+markers",
                line={"width": 2.5, "color": color} if color else {"width": 2.5},
                marker={"size": 7},
                connectgaps=False,
                hovertemplate="%{fullData.name}<br>%{x}: %{y"
                + (":.1f}%" if percent else ":,}")
                + "<extra></extra>",
            )
        )
    value_axis: dict[str, Any] = {"title": {"text": y_title}, "rangemode": "tozero"}
    if percent:
        value_axis["ticksuffix"] = "%"
    fig.update_layout(
        xaxis={"title": {"text": x_title}, "type": "category"},
        yaxis=value_axis,
        showlegend=len(series) > 1,
    )
    return fig


def donut(
    labels: Sequence[str],
    values: Sequence[Any],
    colors: Sequence[str] | None = None,
    *,
    center: str = "",
    height: int = 320,
) -> go.Figure:
    pairs = [(lab, number(v)) for lab, v in zip(labels, values, strict=True)]
    pairs = [(lab, v) for lab, v in pairs if v is not None and v > 0]
    fig = base(height=height)
    if not pairs:
        return empty()
    fig.add_trace(
        go.Pie(
            labels=[p[0] for p in pairs],
            values=[p[1] for p in pairs],
            hole=0.58,
            sort=False,
            direction="clockwise",
            marker={
                "colors": list(colors) if colors else None,
                "line": {"color": "#fff", "width": 2},
            },
            textinfo="percent",
            hovertemplate="%{label}: %{value:,}（%{percent}）<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "v", "x": 1.0, "y": 0.5, "yanchor": "middle", "xanchor": "left"},
        annotations=[
            {
                "text": center,
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 14, "color": NAVY},
            }
        ]
        if center
        else [],
    )
    return fig


def heatmap(
    xs: Sequence[str],
    ys: Sequence[str],
    z: Sequence[Sequence[Any]],
    *,
    x_title: str,
    y_title: str,
    colorbar_title: str,
    percent: bool = False,
    height: int = 380,
) -> go.Figure:
    values = [[number(v) for v in row] for row in z]
    if percent:
        values = [[v * 100 if v is not None else None for v in row] for row in values]
    text = [
        [
            ("<5" if raw == "<5" else "")
            if v is None
            else (f"{v:.1f}%" if percent else f"{v:,.0f}")
            for v, raw in zip(row, raw_row, strict=True)
        ]
        for row, raw_row in zip(values, z, strict=True)
    ]
    fig = base(height=height)
    fig.add_trace(
        go.Heatmap(
            x=list(xs),
            y=list(ys),
            z=values,
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, "#eef3fa"], [0.5, "#6f9bd1"], [1, NAVY]],
            colorbar={"title": {"text": colorbar_title}, "thickness": 12},
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": x_title}, "type": "category", "showgrid": False},
        yaxis={"title": {"text": y_title}, "type": "category", "autorange": "reversed"},
    )
    return fig


def sankey(
    node_labels: Sequence[str],
    node_colors: Sequence[str],
    links: Sequence[tuple[int, int, float, str]],
    *,
    height: int = 460,
    unit: str = "",
) -> go.Figure:
    fig = base(height=height)
    fig.add_trace(
        go.Sankey(
            arrangement="snap",
            valueformat=",.0f",
            valuesuffix=f" {unit}" if unit else "",
            node={
                "label": list(node_labels),
                "color": list(node_colors),
                "pad": 16,
                "thickness": 16,
                "line": {"color": "#ffffff", "width": 0.5},
            },
            link={
                "source": [s for s, _, _, _ in links],
                "target": [d for _, d, _, _ in links],
                "value": [v for _, _, v, _ in links],
                "color": [c for _, _, _, c in links],
            },
        )
    )
    fig.update_layout(margin={"l": 12, "r": 12, "t": 12, "b": 12})
    return fig
