//! Whether the palette and the inspector are shown. Each follows the window until the
//! user decides: below [`NARROW`] points wide both fold away so the canvas keeps room
//! to work in; the toolbar's *Palette* and *Inspector* toggles override that for as long
//! as the designer is open.

/// Window width (in points) under which the side panels start folded away: at 800
/// points, the palette and inspector would leave the canvas about a third of it.
pub const NARROW: f32 = 1000.0;

/// One of the two side panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidePanel {
    Palette,
    Inspector,
}

/// The user's choice per panel; `None` = follow the window width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SidePanels {
    palette: Option<bool>,
    inspector: Option<bool>,
}

impl SidePanels {
    /// Whether `panel` is shown in a window `width` points wide.
    pub fn shown(&self, panel: SidePanel, width: f32) -> bool {
        self.choice(panel).unwrap_or(width >= NARROW)
    }

    /// Shows a hidden panel or hides a shown one, and keeps that choice.
    pub fn toggle(&mut self, panel: SidePanel, width: f32) {
        self.set(panel, !self.shown(panel, width));
    }

    /// Shows or hides `panel` from now on, whatever the width.
    pub fn set(&mut self, panel: SidePanel, shown: bool) {
        match panel {
            SidePanel::Palette => self.palette = Some(shown),
            SidePanel::Inspector => self.inspector = Some(shown),
        }
    }

    fn choice(&self, panel: SidePanel) -> Option<bool> {
        match panel {
            SidePanel::Palette => self.palette,
            SidePanel::Inspector => self.inspector,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_follow_the_width_until_toggled() {
        let mut panels = SidePanels::default();
        assert!(panels.shown(SidePanel::Palette, 1400.0));
        assert!(!panels.shown(SidePanel::Palette, 800.0));
        panels.toggle(SidePanel::Palette, 800.0);
        assert!(panels.shown(SidePanel::Palette, 800.0), "shown on request");
        assert!(panels.shown(SidePanel::Palette, 1400.0));
        assert!(
            !panels.shown(SidePanel::Inspector, 800.0),
            "the other panel still follows the width"
        );
        panels.toggle(SidePanel::Inspector, 1400.0);
        assert!(
            !panels.shown(SidePanel::Inspector, 1400.0),
            "hidden on request"
        );
    }
}
