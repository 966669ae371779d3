//! YAML to `yaml_serde::Value` within a budget: every node an alias expands
//! to is counted, so a billion-laughs file fails fast instead of filling
//! memory; then YAML merge keys (`<<: *base`, `<<: [*a, *b]`) are resolved as
//! docker compose's YAML reader does (keys of the mapping win, then the
//! merged mappings in order).

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use yaml_serde::value::{Tag, TaggedValue};
use yaml_serde::{Mapping, Value};

/// What one node costs in the budget, roughly its size in memory.
const NODE_COST: usize = 100;
/// The budget of one file, in approximate bytes of the built tree.
pub const BUDGET: usize = 48 << 20;

/// Parse `text` into a value of at most `budget` approximate bytes, merge keys resolved.
pub fn parse(text: &str, budget: usize) -> Result<Value, String> {
    let left = Cell::new(budget);
    let de = yaml_serde::Deserializer::from_str(text);
    let mut v = Node(&left).deserialize(de).map_err(|e| e.to_string())?;
    merge_keys(&mut v)?;
    Ok(v)
}

/// Approximate size of `v`, stopping once it passes `limit`.
pub fn cost(v: &Value, limit: usize) -> usize {
    let mut total = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += NODE_COST;
        if total > limit {
            break;
        }
        match v {
            Value::String(s) => total += s.len(),
            Value::Sequence(s) => stack.extend(s),
            Value::Mapping(m) => {
                for (k, v) in m {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Value::Tagged(t) => stack.push(&t.value),
            _ => {}
        }
    }
    total
}

fn too_big<E: de::Error>() -> E {
    E::custom(format!(
        "the document expands to more than {} MiB (aliases repeated too often?)",
        BUDGET >> 20
    ))
}

#[derive(Clone, Copy)]
struct Node<'a>(&'a Cell<usize>);

impl Node<'_> {
    fn charge<E: de::Error>(self, n: usize) -> Result<(), E> {
        let left = self.0.get().checked_sub(n).ok_or_else(too_big)?;
        self.0.set(left);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Number(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Number(f.into()))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.charge(NODE_COST + s.len())?;
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.charge(NODE_COST + s.len())?;
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.charge(NODE_COST)?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Sequence(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.charge(NODE_COST)?;
        let mut out = Mapping::new();
        while let Some(k) = map.next_key_seed(self)? {
            let v = map.next_value_seed(self)?;
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!(
                    "duplicate key {}",
                    super::show(&k)
                )));
            }
            out.insert(k, v);
        }
        Ok(Value::Mapping(out))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        self.charge(NODE_COST)?;
        let (tag, contents) = data.variant_seed(TagSeed)?;
        let value = contents.newtype_variant_seed(self)?;
        Ok(Value::Tagged(Box::new(TaggedValue { tag, value })))
    }
}

struct TagSeed;

impl<'de> DeserializeSeed<'de> for TagSeed {
    type Value = Tag;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tag, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(de::Error::custom("empty YAML tag is not allowed"));
        }
        Ok(Tag::new(s))
    }
}

use serde::Deserialize as _;

/// Resolve `<<` keys everywhere in `v`, children first, so a merged mapping
/// brings its own merges resolved. Depth is bounded by the YAML reader's
/// recursion limit.
fn merge_keys(v: &mut Value) -> Result<(), String> {
    match v {
        Value::Mapping(m) => {
            for (_, item) in m.iter_mut() {
                merge_keys(item)?;
            }
            let Some(merge) = m.remove("<<") else {
                return Ok(());
            };
            let sources = match merge {
                Value::Mapping(one) => vec![one],
                Value::Sequence(list) => list
                    .into_iter()
                    .map(|item| match item {
                        Value::Mapping(one) => Ok(one),
                        other => Err(format!(
                            "a merge key (<<) takes mappings, not {}",
                            super::ports::kind(&other)
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(format!(
                        "a merge key (<<) takes a mapping or a list of mappings, not {}",
                        super::ports::kind(&other)
                    ));
                }
            };
            for source in sources {
                for (k, v) in source {
                    m.entry(k).or_insert(v);
                }
            }
        }
        Value::Sequence(s) => {
            for item in s {
                merge_keys(item)?;
            }
        }
        Value::Tagged(t) => merge_keys(&mut t.value)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_resolve_with_own_keys_first() {
        let v = parse(
            "a: &a {x: 1, y: 1}\nb: &b {<<: *a, z: 1}\nc: {<<: [*b, {w: 2, x: 3}], y: 2}\n",
            BUDGET,
        )
        .unwrap();
        let c = &v["c"];
        assert_eq!(c["x"], Value::from(1));
        assert_eq!(c["y"], Value::from(2));
        assert_eq!(c["z"], Value::from(1));
        assert_eq!(c["w"], Value::from(2));
        assert!(c.get("<<").is_none());
        assert!(
            parse("a: {<<: 1}\n", BUDGET)
                .unwrap_err()
                .contains("merge key")
        );
    }

    #[test]
    fn billion_laughs_fails_fast() {
        use std::fmt::Write as _;
        let mut doc = String::from(
            "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for i in 1..10 {
            let p = i - 1;
            let _ = writeln!(
                doc,
                "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]"
            );
        }
        let t = std::time::Instant::now();
        let err = parse(&doc, BUDGET).unwrap_err();
        assert!(
            err.contains("expands to more than") || err.contains("repetition limit"),
            "{err}"
        );
        // Wall time on a shared machine; tests/hostile.rs bounds CPU time.
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
        // One big string repeated: few nodes, many bytes.
        let doc = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(1 << 20),
            "*a,".repeat(100)
        );
        assert!(
            parse(&doc, BUDGET)
                .unwrap_err()
                .contains("expands to more than")
        );
    }

    #[test]
    fn tags_and_duplicates() {
        let v = parse("p: !reset []\nq: !override [1]\n", BUDGET).unwrap();
        assert!(matches!(&v["p"], Value::Tagged(t) if t.tag == "reset"));
        assert!(
            parse("a: 1\na: 2\n", BUDGET)
                .unwrap_err()
                .contains("duplicate key")
        );
    }
}
