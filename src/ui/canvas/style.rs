//! Colours and sizes of canvas items, per role and theme.

use egui::{Color32, Painter, Pos2, Stroke, Vec2, Visuals};

use crate::components;
use crate::model::{Node, Role, System};

/// Size of every node in canvas units: wide enough for a name and a component id,
/// small enough that an example topology fits a laptop screen at 1:1.
pub const NODE_SIZE: Vec2 = Vec2::new(150.0, 64.0);
/// Radius of a port circle, in canvas units.
pub const PORT_RADIUS: f32 = 6.0;
/// Below this zoom text on nodes is too small to read, so the canvas draws less, like a
/// map zoomed out: nodes without their text, edge labels as handles, and a run's numbers
/// as one rate inside each node. It also keeps a large design cheap to draw when all of
/// it is in view.
pub const DETAIL_ZOOM: f32 = 0.35;

/// The hue that identifies a node's kind. Spark-style windows are bolts in the model,
/// but get their own colour because users think of them as a separate family.
pub fn accent(node: &Node) -> Color32 {
    let spark = components::descriptor(&node.component).is_some_and(|d| d.system == System::Spark);
    if spark && node.role == Role::Bolt {
        return Color32::from_rgb(0xa0, 0x6c, 0xe8);
    }
    role_accent(node.role)
}

pub fn role_accent(role: Role) -> Color32 {
    match role {
        Role::Spout => Color32::from_rgb(0x1f, 0xa8, 0x98),
        Role::Bolt => Color32::from_rgb(0x4a, 0x8c, 0xf0),
        Role::Source => Color32::from_rgb(0x4c, 0xb0, 0x5a),
        Role::Channel => Color32::from_rgb(0xe0, 0xa8, 0x30),
        Role::Sink => Color32::from_rgb(0xe0, 0x6c, 0x50),
    }
}

/// A node's body colour: the accent washed toward the background, so text on it keeps
/// the theme's contrast in both dark and light mode.
pub fn body_fill(accent: Color32, visuals: &Visuals) -> Color32 {
    let (base, amount) = if visuals.dark_mode {
        (Color32::from_rgb(0x24, 0x26, 0x2b), 0.22)
    } else {
        (Color32::from_rgb(0xfb, 0xfb, 0xfc), 0.16)
    };
    mix(base, accent, amount)
}

pub fn mix(a: Color32, b: Color32, t: f32) -> Color32 {
    let lerp = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    Color32::from_rgb(lerp(a.r(), b.r()), lerp(a.g(), b.g()), lerp(a.b(), b.b()))
}

/// Red used for problems and failures; readable on both themes.
pub fn problem_color(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0xff, 0x5a, 0x5a)
    } else {
        Color32::from_rgb(0xd0, 0x20, 0x20)
    }
}

/// Green for things going well (a Flume node delivering); dark text goes on it.
pub fn good_color() -> Color32 {
    Color32::from_rgb(0x2f, 0x9e, 0x55)
}

/// Orange for things to watch (a channel filling up).
pub fn warn_color() -> Color32 {
    Color32::from_rgb(0xf0, 0x9a, 0x30)
}

/// The canvas's background.
pub fn canvas_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x1a, 0x1b, 0x1f)
    } else {
        Color32::from_rgb(0xf4, 0xf5, 0xf7)
    }
}

/// Orange text of the notes under a running node (a stalled spout, state a restart
/// lost). The theme's warning colour is 2.7:1 on the light canvas, so the light theme
/// takes a darker orange that reaches 4.5:1.
pub fn note_color(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        visuals.warn_fg_color
    } else {
        Color32::from_rgb(0xa8, 0x4a, 0x00)
    }
}

/// The fill of a node's rate pill during a run.
pub fn rate_pill_fill(visuals: &Visuals) -> Color32 {
    visuals.selection.bg_fill
}

/// Text for a pill of `fill`: white or near-black, whichever contrasts more, so every
/// pill's text reaches WCAG's 4.5:1 in both themes (white on the light theme's pale
/// blue was 1.7:1).
pub fn text_on(fill: Color32) -> Color32 {
    let dark = Color32::from_gray(0x14);
    if contrast(Color32::WHITE, fill) >= contrast(dark, fill) {
        Color32::WHITE
    } else {
        dark
    }
}

/// WCAG 2 contrast ratio between two opaque colours, from 1 (same) to 21.
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance(c: Color32) -> f32 {
    let lin = |v: u8| {
        let v = v as f32 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

pub fn edge_color(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_gray(0x9a)
    } else {
        Color32::from_gray(0x70)
    }
}

/// A filled circle with a ring around it (ports, edge handles), drawn as two filled discs:
/// small discs are stamped from the font atlas as one quad each, where a stroked circle is
/// tessellated into dozens of triangles, and a canvas has hundreds of them.
pub fn ringed_dot(painter: &Painter, center: Pos2, radius: f32, fill: Color32, ring: Stroke) {
    if ring.width > 0.0 {
        painter.circle_filled(center, radius + ring.width, ring.color);
    }
    painter.circle_filled(center, radius, fill);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_is_the_wcag_ratio() {
        assert!((contrast(Color32::WHITE, Color32::BLACK) - 21.0).abs() < 0.01);
        assert!((contrast(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn notes_on_the_canvas_reach_4_5_to_1_in_both_themes() {
        for visuals in [Visuals::light(), Visuals::dark()] {
            let ratio = contrast(note_color(&visuals), canvas_fill(&visuals));
            assert!(
                ratio >= 4.5,
                "dark mode {}: {ratio:.2}:1",
                visuals.dark_mode
            );
        }
    }

    #[test]
    fn pill_text_reaches_4_5_to_1_on_every_pill_in_both_themes() {
        for visuals in [Visuals::light(), Visuals::dark()] {
            let fills = [
                ("rate", rate_pill_fill(&visuals)),
                ("failing", problem_color(&visuals)),
                ("good", good_color()),
                ("warn", warn_color()),
            ];
            for (what, fill) in fills {
                let ratio = contrast(text_on(fill), fill);
                assert!(
                    ratio >= 4.5,
                    "{what} pill, dark mode {}: {ratio:.2}:1",
                    visuals.dark_mode
                );
            }
        }
    }
}
