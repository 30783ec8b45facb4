"""The page's colours: one meaning per colour, readable with colour-blindness.

Every colour here is from the Okabe-Ito palette (Okabe and Ito 2008, "Color Universal
Design"), or a darker shade of one of its hues where a map symbol needs more contrast,
plus neutral greys. Each colour has one meaning, the same on the map, in the charts and
in the legends:

========================  =================================================================
colour                    meaning
========================  =================================================================
vermillion                unmet care need (dots, the unmet chart, the unmet-by-area layer)
bluish green              volunteers and civic energy (triangles, volunteer care, civic
                          potential layer, the facilitation spend)
blue                      the council and the care it buys (hub star, paid care, its spend)
reddish purple            local businesses and community-owned places
yellow                    family and friends' care (a chart band only)
greys and black           no unmet need (resident dots), and the frame: axes, strategy A/B
                          lines, kept runs, the band of chance over seeds
========================  =================================================================

The map's background layers are pale ramps (white to a light tint of the layer's hue),
so every symbol's identifying colour (its "ink") keeps at least 3:1 contrast (WCAG 2.1,
success criterion 1.4.11) against every colour the background can take. The functions
below compute WCAG relative luminance and contrast, and simulate colour-vision
deficiencies (Machado, Oliveira and Fernandes 2009, severity 1) so a unit test can
check both claims rather than trust them.
"""

from __future__ import annotations

import numpy as np

# --- Okabe-Ito and the shades used ---------------------------------------------------------
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"

#: Darker shades of Okabe-Ito hues for map symbols (same hue, lower luminance), and a
#: dark blue beside the blue band of paid care (care-home places the council buys).
DARK_GREEN = "#007A58"
DARK_PURPLE = "#A8507E"
DARK_BLUE = "#004A75"

#: Neutral greys: "no unmet need" on the map; frames, kept runs and bands in charts.
GREY_DARK = "#4D4D4D"
GREY_MID = "#8C8C8C"
GREY_LIGHT = "#D9D9D9"
WHITE = "#FFFFFF"

#: Light tint of vermillion (the low-level part of unmet need; the ramp's top).
VERMILLION_TINT = "#FFE2CE"
#: Light tint of bluish green (the civic-potential ramp's top).
GREEN_TINT = "#C4F2DC"

#: What each colour means (one meaning per colour); used by the legend and the tests.
MEANINGS = {
    VERMILLION: "unmet care need",
    VERMILLION_TINT: "unmet care need",
    BLUISH_GREEN: "volunteers and civic energy",
    DARK_GREEN: "volunteers and civic energy",
    GREEN_TINT: "volunteers and civic energy",
    BLUE: "the council and the care it buys",
    DARK_BLUE: "the council and the care it buys",
    REDDISH_PURPLE: "local businesses and community-owned places",
    DARK_PURPLE: "local businesses and community-owned places",
    YELLOW: "family and friends' care",
    GREY_DARK: "no unmet need (map); frame (charts)",
    GREY_MID: "a kept run (charts)",
    GREY_LIGHT: "the range over several seeds (charts)",
    BLACK: "frame and strategy lines",
    WHITE: "background",
}

#: Background ramps of the map: stops from 0 (lowest) to 1 (highest value).
CIVIC_RAMP = (WHITE, GREEN_TINT)
UNMET_RAMP = (WHITE, VERMILLION_TINT)


def hex_rgb(colour: str) -> np.ndarray:
    """Return sRGB components in [0, 1] of a ``#rrggbb`` colour."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour must be #rrggbb, got {colour!r}")
    return np.array([int(text[i : i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255.0


def rgb_hex(rgb) -> str:
    """Return ``#rrggbb`` of sRGB components in [0, 1]."""
    r, g, b = (int(round(255 * float(np.clip(c, 0.0, 1.0)))) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def to_linear(rgb: np.ndarray) -> np.ndarray:
    """SRGB components to linear light (the WCAG 2.1 formula)."""
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light back to sRGB components."""
    lin = np.clip(np.asarray(lin, dtype=float), 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


def luminance(colour) -> float:
    """WCAG relative luminance of a colour (``#rrggbb`` or sRGB components)."""
    rgb = hex_rgb(colour) if isinstance(colour, str) else np.asarray(colour, dtype=float)
    return float(to_linear(rgb) @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ramp_colours(stops, values: np.ndarray) -> np.ndarray:
    """Colours (sRGB, shape ``values.shape + (3,)``) of values in [0, 1] on a ramp.

    Interpolates between equally spaced stops in linear light.
    """
    lin = np.array([to_linear(hex_rgb(s)) for s in stops])
    v = np.clip(np.asarray(values, dtype=float), 0.0, 1.0) * (len(stops) - 1)
    lo = np.minimum(np.floor(v).astype(int), len(stops) - 2)
    frac = (v - lo)[..., None]
    return to_srgb(lin[lo] * (1 - frac) + lin[lo + 1] * frac)


# Machado, Oliveira and Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", IEEE TVCG 15(6); severity 1.0, applied to linear RGB.
CVD_MATRICES = {
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "tritanopia": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}


def simulate(colour: str, deficiency: str) -> np.ndarray:
    """SRGB of a colour as seen with a colour-vision deficiency (a ``CVD_MATRICES`` key)."""
    lin = to_linear(hex_rgb(colour))
    return to_srgb(CVD_MATRICES[deficiency] @ lin)


def lab(rgb) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB components."""
    lin = to_linear(np.asarray(rgb, dtype=float))
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = (m @ lin) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def colour_distance(a, b) -> float:
    """CIE76 colour difference (Delta E) of two sRGB colours (hex or components)."""
    ra = hex_rgb(a) if isinstance(a, str) else a
    rb = hex_rgb(b) if isinstance(b, str) else b
    return float(np.linalg.norm(lab(ra) - lab(rb)))
