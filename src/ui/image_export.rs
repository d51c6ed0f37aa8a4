//! File → Export image → PNG: a picture of the canvas exactly as the user sees it.
//!
//! egui hands out screenshots of the whole window through a callback, a frame or two
//! after they are asked for. [`PendingImage`] carries the request across those frames;
//! cropping and encoding are plain functions so tests can check them without a window.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use egui::{ColorImage, Rect};

/// A PNG export in progress: where it goes and how far the screenshot has come.
#[derive(Debug)]
pub struct PendingImage {
    path: PathBuf,
    stage: Stage,
}

#[derive(Debug)]
enum Stage {
    /// Not asked yet: the frame that chose the path still shows the open menu, so the
    /// screenshot is asked for on the next frame, once the menu has closed.
    NotRequested,
    Requested(Receiver<Arc<ColorImage>>),
}

impl PendingImage {
    /// An export to `path`, to be driven by [`Self::poll`] once per frame.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            stage: Stage::NotRequested,
        }
    }

    /// Moves the export on: asks for the screenshot, or writes it once it has arrived.
    /// `None` while waiting; then the path written, or why nothing was.
    pub fn poll(
        &mut self,
        ctx: &egui::Context,
        canvas: Option<Rect>,
    ) -> Option<Result<PathBuf, String>> {
        match &self.stage {
            Stage::NotRequested => {
                let (sender, receiver) = channel();
                let repaint = ctx.clone();
                ctx.request_screenshot(move |image| {
                    // The app may have stopped waiting (closed); nothing to do then.
                    let _ = sender.send(image);
                    repaint.request_repaint();
                });
                self.stage = Stage::Requested(receiver);
                None
            }
            Stage::Requested(receiver) => match receiver.try_recv() {
                Ok(image) => {
                    let Some(rect) = canvas else {
                        return Some(Err("the canvas is not on screen".into()));
                    };
                    Some(
                        write_png(&self.path, &image, rect, ctx.pixels_per_point())
                            .map(|()| self.path.clone()),
                    )
                }
                Err(TryRecvError::Empty) => {
                    ctx.request_repaint();
                    None
                }
                Err(TryRecvError::Disconnected) => {
                    Some(Err("the window gave no screenshot".into()))
                }
            },
        }
    }
}

/// Crops a window screenshot to `rect` (in points), writes it as PNG to `path`.
pub fn write_png(
    path: &Path,
    screenshot: &ColorImage,
    rect: Rect,
    pixels_per_point: f32,
) -> Result<(), String> {
    let image = crop(screenshot, rect, pixels_per_point)
        .ok_or_else(|| "the canvas area is empty".to_string())?;
    let bytes = encode_png(&image).map_err(|e| format!("cannot encode PNG: {e}"))?;
    crate::format::write_atomically(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The part of a screenshot under `rect` (points, scaled to pixels), clamped to the
/// image so a canvas partly off-screen still exports; `None` if nothing is left.
pub fn crop(image: &ColorImage, rect: Rect, pixels_per_point: f32) -> Option<ColorImage> {
    let [width, height] = image.size;
    let to_px = |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
    let (x0, x1) = (to_px(rect.min.x, width), to_px(rect.max.x, width));
    let (y0, y1) = (to_px(rect.min.y, height), to_px(rect.max.y, height));
    (x1 > x0 && y1 > y0).then(|| image.region_by_pixels([x0, y0], [x1 - x0, y1 - y0]))
}

/// PNG bytes (8-bit RGBA) of an image.
pub fn encode_png(image: &ColorImage) -> Result<Vec<u8>, png::EncodingError> {
    let [width, height] = image.size;
    let rgba: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect();
    let too_big = || png::EncodingError::LimitsExceeded;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(
        &mut out,
        u32::try_from(width).map_err(|_| too_big())?,
        u32::try_from(height).map_err(|_| too_big())?,
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgba)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Color32, pos2};

    fn test_image() -> ColorImage {
        // 8×6 pixels: left half red, right half blue.
        let pixels = (0..48)
            .map(|i| {
                if i % 8 < 4 {
                    Color32::RED
                } else {
                    Color32::BLUE
                }
            })
            .collect();
        ColorImage::new([8, 6], pixels)
    }

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn crop_scales_points_to_pixels_and_clamps() {
        let image = test_image();
        // 2 pixels per point: points (2,0)-(4,2) are pixels (4,0)-(8,4): the blue half.
        let right = crop(
            &image,
            Rect::from_min_max(pos2(2.0, 0.0), pos2(4.0, 2.0)),
            2.0,
        )
        .unwrap();
        assert_eq!(right.size, [4, 4]);
        assert!(right.pixels.iter().all(|&c| c == Color32::BLUE));
        // Off the image on every side: clamped to the whole image.
        let all = crop(
            &image,
            Rect::from_min_max(pos2(-5.0, -5.0), pos2(50.0, 50.0)),
            1.0,
        )
        .unwrap();
        assert_eq!(all.size, [8, 6]);
        assert!(
            crop(
                &image,
                Rect::from_min_max(pos2(20.0, 0.0), pos2(30.0, 5.0)),
                1.0
            )
            .is_none()
        );
    }

    #[test]
    fn png_round_trips_size_and_pixels() {
        let bytes = encode_png(&test_image()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h, rgba) = decode(&bytes);
        assert_eq!((w, h), (8, 6));
        assert_eq!(&rgba[..4], &[255, 0, 0, 255]);
        assert_eq!(&rgba[16..20], &[0, 0, 255, 255]);
    }

    #[test]
    fn write_png_writes_the_cropped_canvas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canvas.png");
        let rect = Rect::from_min_max(pos2(0.0, 1.0), pos2(4.0, 4.0));
        write_png(&path, &test_image(), rect, 1.0).unwrap();
        let (w, h, rgba) = decode(&std::fs::read(&path).unwrap());
        assert_eq!((w, h), (4, 3));
        assert!(rgba.chunks(4).all(|p| p == [255, 0, 0, 255]));
        let empty = Rect::from_min_max(pos2(9.0, 0.0), pos2(9.0, 1.0));
        assert!(write_png(&dir.path().join("no.png"), &test_image(), empty, 1.0).is_err());
    }
}
