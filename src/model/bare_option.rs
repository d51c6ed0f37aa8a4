//! Serde helper: write `Some(x)` as plain `x` in files, so hand-written RON can say
//! `tasks: 4` instead of `tasks: Some(4)`. Use with `default` and
//! `skip_serializing_if = "Option::is_none"` so `None` is simply absent.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<T: Serialize, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => v.serialize(serializer),
        None => serializer.serialize_none(),
    }
}

pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}
