//! Brian's data types and literal values, shared by every stage.
//!
//! In: dtype names and JSON values from the export. Out: [`Dtype`] (with its
//! C/CUDA spelling, byte size and Brian's promotion rule) and [`Value`].

use serde::{Deserialize, Deserializer};

/// A Brian/numpy dtype Brisk supports.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Bool,
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Uint64,
    Float32,
    Float64,
}

impl Dtype {
    /// Bytes per element in Brian's raw files (bool is one byte).
    pub fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::Int8 | Dtype::Uint8 => 1,
            Dtype::Int16 | Dtype::Uint16 => 2,
            Dtype::Int32 | Dtype::Uint32 | Dtype::Float32 => 4,
            Dtype::Int64 | Dtype::Uint64 | Dtype::Float64 => 8,
        }
    }

    /// The C++/CUDA type name (as Brian's `c_data_type`; bool is `char` in memory).
    pub fn c_type(self) -> &'static str {
        match self {
            Dtype::Bool => "char",
            Dtype::Int8 => "int8_t",
            Dtype::Uint8 => "uint8_t",
            Dtype::Int16 => "int16_t",
            Dtype::Uint16 => "uint16_t",
            Dtype::Int32 => "int32_t",
            Dtype::Uint32 => "uint32_t",
            Dtype::Int64 => "int64_t",
            Dtype::Uint64 => "uint64_t",
            Dtype::Float32 => "float",
            Dtype::Float64 => "double",
        }
    }

    /// The type of a local variable holding a value of this dtype.
    pub fn local_type(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            other => other.c_type(),
        }
    }

    /// The export's name for this dtype.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::Int8 => "int8",
            Dtype::Uint8 => "uint8",
            Dtype::Int16 => "int16",
            Dtype::Uint16 => "uint16",
            Dtype::Int32 => "int32",
            Dtype::Uint32 => "uint32",
            Dtype::Int64 => "int64",
            Dtype::Uint64 => "uint64",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Dtype::Float32 | Dtype::Float64)
    }

    pub fn is_integer(self) -> bool {
        !self.is_float() && self != Dtype::Bool
    }

    /// Brian's promotion of two operand types in arithmetic: float wins
    /// (the wider float), then the wider integer; bool counts as integer.
    pub fn promote(a: Dtype, b: Dtype) -> Dtype {
        match (a.is_float(), b.is_float()) {
            (true, true) => a.max(b),
            (true, false) => a,
            (false, true) => b,
            (false, false) => {
                let a = if a == Dtype::Bool { Dtype::Int32 } else { a };
                let b = if b == Dtype::Bool { Dtype::Int32 } else { b };
                a.max(b)
            }
        }
    }
}

/// A literal value from the export: bool, integer or float (inf/nan allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Value {
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Bool(b) => f64::from(u8::from(b)),
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
        }
    }

    /// The value as an integer (floats truncate toward zero and saturate, NaN is 0).
    pub fn as_i64(self) -> i64 {
        match self {
            Value::Bool(b) => i64::from(b),
            Value::Int(i) => i,
            Value::Float(f) => f as i64,
        }
    }

    /// The value as the little-endian bytes of one element of `dtype` (numpy's casting).
    pub fn to_bytes(self, dtype: Dtype) -> Vec<u8> {
        let f = self.as_f64();
        let i: i64 = match self {
            Value::Bool(b) => i64::from(b),
            Value::Int(i) => i,
            Value::Float(f) => f as i64,
        };
        match dtype {
            Dtype::Bool => vec![u8::from(f != 0.0)],
            Dtype::Int8 => (i as i8).to_le_bytes().to_vec(),
            Dtype::Uint8 => (i as u8).to_le_bytes().to_vec(),
            Dtype::Int16 => (i as i16).to_le_bytes().to_vec(),
            Dtype::Uint16 => (i as u16).to_le_bytes().to_vec(),
            Dtype::Int32 => (i as i32).to_le_bytes().to_vec(),
            Dtype::Uint32 => (i as u32).to_le_bytes().to_vec(),
            Dtype::Int64 => i.to_le_bytes().to_vec(),
            Dtype::Uint64 => (i as u64).to_le_bytes().to_vec(),
            Dtype::Float32 => (f as f32).to_le_bytes().to_vec(),
            Dtype::Float64 => f.to_le_bytes().to_vec(),
        }
    }

    /// One element of `dtype` from its little-endian bytes (the inverse of
    /// [`Value::to_bytes`]); `b` holds at least `dtype.size()` bytes.
    pub fn from_bytes(dtype: Dtype, b: &[u8]) -> Value {
        let arr = |n: usize| -> [u8; 8] {
            let mut a = [0u8; 8];
            a[..n].copy_from_slice(&b[..n]);
            a
        };
        match dtype {
            Dtype::Bool => Value::Bool(b[0] != 0),
            Dtype::Int8 => Value::Int(i64::from(b[0] as i8)),
            Dtype::Uint8 => Value::Int(i64::from(b[0])),
            Dtype::Int16 => Value::Int(i64::from(i16::from_le_bytes([b[0], b[1]]))),
            Dtype::Uint16 => Value::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))),
            Dtype::Int32 => Value::Int(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            Dtype::Uint32 => Value::Int(i64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            Dtype::Int64 => Value::Int(i64::from_le_bytes(arr(8))),
            Dtype::Uint64 => Value::Int(u64::from_le_bytes(arr(8)) as i64),
            Dtype::Float32 => Value::Float(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            Dtype::Float64 => Value::Float(f64::from_le_bytes(arr(8))),
        }
    }

    /// A C++/CUDA literal of this value for a variable of type `dtype`.
    pub fn c_literal(self, dtype: Dtype) -> String {
        match dtype {
            Dtype::Bool => (if self.as_f64() != 0.0 {
                "true"
            } else {
                "false"
            })
            .to_string(),
            d if d.is_float() => float_literal(self.as_f64()),
            _ => match self {
                Value::Int(i) => int_literal(i),
                other => int_literal(other.as_f64() as i64),
            },
        }
    }
}

/// A C literal for an f64 that round-trips (`INFINITY`, `NAN` for the specials).
pub fn float_literal(f: f64) -> String {
    if f.is_nan() {
        "NAN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 {
            "INFINITY".to_string()
        } else {
            "(-INFINITY)".to_string()
        }
    } else {
        let s = format!("{f:?}");
        if s.starts_with('-') {
            format!("({s})")
        } else {
            s
        }
    }
}

/// A C literal for an i64 (`LL` suffix where it does not fit an int).
pub fn int_literal(i: i64) -> String {
    let s = if i32::try_from(i).is_ok() {
        i.to_string()
    } else {
        format!("{i}LL")
    };
    if i < 0 {
        format!("({s})")
    } else {
        s
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::Bool(b) => Ok(Value::Bool(b)),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Value::Int(i))
                } else {
                    Ok(Value::Float(n.as_f64().unwrap_or(f64::NAN)))
                }
            }
            serde_json::Value::String(s) => match s.as_str() {
                "inf" => Ok(Value::Float(f64::INFINITY)),
                "-inf" => Ok(Value::Float(f64::NEG_INFINITY)),
                "nan" => Ok(Value::Float(f64::NAN)),
                other => Err(serde::de::Error::custom(format!("not a value: {other:?}"))),
            },
            other => Err(serde::de::Error::custom(format!("not a value: {other}"))),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Bool(b) => s.serialize_bool(b),
            Value::Int(i) => s.serialize_i64(i),
            Value::Float(f) if f.is_nan() => s.serialize_str("nan"),
            Value::Float(f) if f.is_infinite() => {
                s.serialize_str(if f > 0.0 { "inf" } else { "-inf" })
            }
            Value::Float(f) => s.serialize_f64(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_for_every_dtype() {
        let all = [
            Dtype::Bool,
            Dtype::Int8,
            Dtype::Uint8,
            Dtype::Int16,
            Dtype::Uint16,
            Dtype::Int32,
            Dtype::Uint32,
            Dtype::Int64,
            Dtype::Uint64,
            Dtype::Float32,
            Dtype::Float64,
        ];
        for dtype in all {
            let value = if dtype.is_float() {
                Value::Float(-2.5)
            } else if dtype == Dtype::Bool {
                Value::Bool(true)
            } else {
                Value::Int(7)
            };
            let bytes = value.to_bytes(dtype);
            assert_eq!(bytes.len(), dtype.size(), "{dtype:?}");
            assert_eq!(
                Value::from_bytes(dtype, &bytes).as_f64(),
                value.as_f64(),
                "{dtype:?}"
            );
        }
        assert_eq!(
            Value::from_bytes(Dtype::Int32, &(-3i32).to_le_bytes()),
            Value::Int(-3)
        );
    }
}
