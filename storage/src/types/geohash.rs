//! Geohashes as redis-server computes them: the 52-bit interleaved cell of a
//! longitude/latitude pair (the score a geo member is stored with in a sorted set), its
//! decoding back to the cell's centre, neighbour cells, the cells that cover a search area,
//! and distances on Redis's sphere.
//!
//! Written from the algorithm (facts carried over from redis-server 7.0: the latitude limits
//! of Web Mercator, ±85.05112878°, 26 bits a coordinate with latitude in the even bits and
//! longitude in the odd ones, the haversine formula with an earth radius of
//! 6372797.560856 m), with the same floating-point operations in the same order, so scores,
//! coordinates and distances come out bit for bit as redis-server's.

/// Bits per coordinate.
pub const STEP_MAX: u8 = 26;
/// Southernmost latitude that can be indexed.
pub const LAT_MIN: f64 = -85.05112878;
/// Northernmost latitude that can be indexed.
pub const LAT_MAX: f64 = 85.05112878;
/// Westernmost longitude.
pub const LON_MIN: f64 = -180.0;
/// Easternmost longitude.
pub const LON_MAX: f64 = 180.0;
/// The sphere's radius, metres.
pub const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

/// A cell: `step` bits a coordinate, interleaved into `bits`. Step 0 is "no cell".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cell {
    /// Interleaved bits (`2 * step` of them).
    pub bits: u64,
    /// Bits per coordinate.
    pub step: u8,
}

/// A coordinate range.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
}

/// Longitudes of the index.
pub const LON_RANGE: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};
/// Latitudes of the index.
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The area of a cell.
#[derive(Debug, Clone, Copy)]
pub struct Area {
    /// Longitudes.
    pub lon: Range,
    /// Latitudes.
    pub lat: Range,
}

/// Spreads the 32 bits of `v` into the even bits of a `u64`.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    x = (x | (x << 1)) & 0x5555_5555_5555_5555;
    x
}

/// Gathers the even bits of `v` into a `u32`.
fn gather(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// The cell of `step` bits holding (`lon`, `lat`) in the given ranges, or `None` outside
/// them (or outside the index's limits).
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Cell> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    // C's double → uint32_t conversion truncates.
    let bits = spread(lat_off as u32) | (spread(lon_off as u32) << 1);
    Some(Cell { bits, step })
}

/// [`encode`] in the index's ranges.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Cell> {
    encode(LON_RANGE, LAT_RANGE, lon, lat, step)
}

/// The area a cell covers.
pub fn decode(lon_r: Range, lat_r: Range, cell: Cell) -> Area {
    let lat_i = gather(cell.bits);
    let lon_i = gather(cell.bits >> 1);
    let div = (1u64 << cell.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    Area {
        lat: Range {
            min: lat_r.min + (f64::from(lat_i) * 1.0 / div) * lat_scale,
            max: lat_r.min + ((f64::from(lat_i) + 1.0) * 1.0 / div) * lat_scale,
        },
        lon: Range {
            min: lon_r.min + (f64::from(lon_i) * 1.0 / div) * lon_scale,
            max: lon_r.min + ((f64::from(lon_i) + 1.0) * 1.0 / div) * lon_scale,
        },
    }
}

/// The centre of a 52-bit score's cell, clamped to the index's limits: what GEOPOS reports.
pub fn decode_score(score: f64) -> (f64, f64) {
    // C's double → uint64_t conversion of a stored score.
    let cell = Cell {
        bits: score as u64,
        step: STEP_MAX,
    };
    let a = decode(LON_RANGE, LAT_RANGE, cell);
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A cell's bits shifted to 52 bits (the score range it covers starts there).
pub fn align52(cell: Cell) -> u64 {
    cell.bits << (52 - u32::from(cell.step) * 2)
}

/// The score GEOADD stores for (`lon`, `lat`), which must be within the limits.
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(align52)
}

/// The 11-character geohash string of a score (GEOHASH): the standard geohash, on latitudes
/// ±90, of the cell's centre; the last character is always `0` (52 bits give ten and a
/// bit).
pub fn hash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(LON_RANGE, std_lat, lon, lat, STEP_MAX).map_or(0, |c| c.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

fn move_lon(cell: &mut Cell, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(cell.step) * 2;
    let mut x = cell.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = cell.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    cell.bits = x | y;
}

fn move_lat(cell: &mut Cell, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(cell.step) * 2;
    let x = cell.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = cell.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    cell.bits = x | y;
}

fn moved(cell: Cell, dlon: i8, dlat: i8) -> Cell {
    let mut c = cell;
    move_lon(&mut c, dlon);
    move_lat(&mut c, dlat);
    c
}

fn deg_rad(a: f64) -> f64 {
    a * (std::f64::consts::PI / 180.0)
}

fn rad_deg(a: f64) -> f64 {
    a / (std::f64::consts::PI / 180.0)
}

/// Distance along a meridian between two latitudes.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Great-circle distance in metres (haversine).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// A search area around a centre.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Within `radius` metres.
    Radius(f64),
    /// Within a box `width` × `height` metres, axis-aligned.
    Box {
        /// East-west size.
        width: f64,
        /// North-south size.
        height: f64,
    },
}

/// A search: centre, area in the caller's unit, and that unit in metres.
#[derive(Debug, Clone, Copy)]
pub struct Search {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// The area, in `unit`s.
    pub shape: Shape,
    /// Metres per unit.
    pub unit: f64,
}

impl Search {
    /// The distance (metres) to a point if it is inside the area.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.unit).then_some(d)
            }
            Shape::Box { width, height } => {
                let (w, h) = (width * self.unit, height * self.unit);
                if lat_distance(lat, self.lat) > h / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// The bounding box: (min lon, min lat, max lon, max lat).
    fn bounds(&self) -> (f64, f64, f64, f64) {
        let (h, w) = match self.shape {
            Shape::Radius(r) => (self.unit * r, self.unit * r),
            Shape::Box { width, height } => (self.unit * (height / 2.0), self.unit * (width / 2.0)),
        };
        let lat_delta = rad_deg(h / EARTH_RADIUS);
        let lon_top = rad_deg(w / EARTH_RADIUS / deg_rad(self.lat + lat_delta).cos());
        let lon_bottom = rad_deg(w / EARTH_RADIUS / deg_rad(self.lat - lat_delta).cos());
        let south = self.lat < 0.0;
        let min_lon = if south {
            self.lon - lon_bottom
        } else {
            self.lon - lon_top
        };
        let max_lon = if south {
            self.lon + lon_bottom
        } else {
            self.lon + lon_top
        };
        (min_lon, self.lat - lat_delta, max_lon, self.lat + lat_delta)
    }

    /// The cells to look in: the centre's cell and its eight neighbours at a step coarse
    /// enough for the area (neighbours the area cannot reach are left out, as `None`), in
    /// the order redis-server visits them.
    pub fn cells(&self) -> [Option<Cell>; 9] {
        let (min_lon, min_lat, max_lon, max_lat) = self.bounds();
        let radius = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.unit;
        let mut step = estimate_step(radius, self.lat);
        let at = |step: u8| {
            let cell = encode_wgs84(self.lon, self.lat, step).unwrap_or_default();
            (cell, decode(LON_RANGE, LAT_RANGE, cell))
        };
        let (mut cell, mut area) = at(step);
        let north = decode(LON_RANGE, LAT_RANGE, moved(cell, 0, 1));
        let south = decode(LON_RANGE, LAT_RANGE, moved(cell, 0, -1));
        let east = decode(LON_RANGE, LAT_RANGE, moved(cell, 1, 0));
        let west = decode(LON_RANGE, LAT_RANGE, moved(cell, -1, 0));
        let decrease = north.lat.max < max_lat
            || south.lat.min > min_lat
            || east.lon.max < max_lon
            || west.lon.min > min_lon;
        if step > 1 && decrease {
            step -= 1;
            (cell, area) = at(step);
        }
        // centre, N, S, E, W, NE, NW, SE, SW
        let mut cells = [
            Some(cell),
            Some(moved(cell, 0, 1)),
            Some(moved(cell, 0, -1)),
            Some(moved(cell, 1, 0)),
            Some(moved(cell, -1, 0)),
            Some(moved(cell, 1, 1)),
            Some(moved(cell, -1, 1)),
            Some(moved(cell, 1, -1)),
            Some(moved(cell, -1, -1)),
        ];
        if step >= 2 {
            if area.lat.min < min_lat {
                for i in [2, 7, 8] {
                    cells[i] = None;
                }
            }
            if area.lat.max > max_lat {
                for i in [1, 5, 6] {
                    cells[i] = None;
                }
            }
            if area.lon.min < min_lon {
                for i in [4, 8, 6] {
                    cells[i] = None;
                }
            }
            if area.lon.max > max_lon {
                for i in [3, 7, 5] {
                    cells[i] = None;
                }
            }
        }
        cells
    }
}

/// The step (bits a coordinate) whose cells are about the size of `range` metres around
/// latitude `lat`.
pub fn estimate_step(range: f64, lat: f64) -> u8 {
    if range == 0.0 {
        return 26;
    }
    let mut range = range;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The score interval `[min, max)` of the members inside a cell.
pub fn score_range(cell: Cell) -> (u64, u64) {
    let min = align52(cell);
    let max = align52(Cell {
        bits: cell.bits + 1,
        step: cell.step,
    });
    (min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scores_and_positions() {
        // Palermo and Catania, the example of redis-server's documentation.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        let (lon, lat) = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        assert_eq!(&hash_string(3479099956230698.0), b"sqc8b49rny0");
        let (l2, t2) = decode_score(3479447370796909.0);
        let d = distance(lon, lat, l2, t2);
        assert_eq!(format!("{:.4}", d), "166274.1516");
        assert_eq!(score_of(181.0, 0.0), None);
        assert_eq!(score_of(0.0, 85.1), None);
    }

    #[test]
    fn interleaving_round_trips() {
        for v in [0u32, 1, 0x3ff_ffff, 0x155_5555, 12345] {
            assert_eq!(gather(spread(v)), v);
        }
    }
}
