// The proto3 JSON mapping for Envoy types, both ways, driven by the loaded proto reflection:
// JSON (snake_case or lowerCamel field names) -> message bytes / google.protobuf.Any, and
// bytes -> JSON in Envoy's YAML spelling (snake_case names, enums by name, "5s" durations,
// typed_config as {"@type": ...}). Encoding reports every problem with its field path.
// Spec: https://protobuf.dev/programming-guides/proto3/#json

import protobuf from 'protobufjs';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import type { XdsProtos } from './protos.js';
import {
  formatBase64,
  formatDuration,
  formatFieldMask,
  formatTimestamp,
  lowerCamel,
  parseBase64,
  parseDuration,
  parseFieldMask,
  parseTimestamp,
  type SecondsNanos,
} from './well-known-json.js';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** A google.protobuf.Any in message form: the packed message's bytes and its type URL. */
export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

export interface JsonCodec {
  /** Encodes proto3 JSON as a `type` message (full name or type URL). Throws ConfigError listing every bad field. */
  encode(type: string, json: Json): Uint8Array;
  /** Decodes `type` message bytes to proto3 JSON (snake_case names, defaults omitted). Throws ConfigError. */
  decode(type: string, bytes: Uint8Array): JsonObject;
  /** Packs JSON as an Any of `typeUrl` (the JSON need not carry "@type"). */
  toAny(typeUrl: string, json: Json): AnyMessage;
  /** Unpacks an Any to JSON with "@type" first, as the spec's Any mapping writes it. */
  fromAny(any: AnyMessage): JsonObject;
  /** Converts a decoded protobufjs message object of `type` (or a plain object from toObject) to proto3 JSON. */
  messageToJson(type: string, message: object): JsonObject;
  /** Converts proto3 JSON to a protobufjs message of `type` (for embedding in larger messages). */
  jsonToMessage(type: string, json: Json): protobuf.Message;
}

const WKT = '.google.protobuf.';
const INT64_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32_RANGE: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  sint32: [-2147483648, 2147483647],
  sfixed32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  fixed32: [0, 4294967295],
};
const WRAPPERS: Record<string, string> = {
  [`${WKT}DoubleValue`]: 'double',
  [`${WKT}FloatValue`]: 'float',
  [`${WKT}Int64Value`]: 'int64',
  [`${WKT}UInt64Value`]: 'uint64',
  [`${WKT}Int32Value`]: 'int32',
  [`${WKT}UInt32Value`]: 'uint32',
  [`${WKT}BoolValue`]: 'bool',
  [`${WKT}StringValue`]: 'string',
  [`${WKT}BytesValue`]: 'bytes',
};
/** toObject options: int64 as decimal strings, enums as numbers, bytes left as Uint8Array. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, defaults: false, arrays: false };

type Plain = Record<string, unknown>;

export function createJsonCodec(protos: XdsProtos): JsonCodec {
  const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

  /** Field lookup accepting the proto name, its lowerCamel JSON name and an explicit json_name. */
  function fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
    let index = fieldIndex.get(type);
    if (index === undefined) {
      index = new Map();
      for (const f of type.fieldsArray) {
        index.set(f.name, f);
        index.set(lowerCamel(f.name), f);
        const jsonName = f.options?.json_name;
        if (typeof jsonName === 'string') index.set(jsonName, f);
      }
      fieldIndex.set(type, index);
    }
    return index;
  }

  // ---- JSON -> protobufjs plain object -------------------------------------------------------

  function messageFromJson(type: protobuf.Type, json: Json, path: string, issues: ConfigIssue[]): unknown {
    const name = type.fullName;
    if (name.startsWith(WKT)) {
      const special = wellKnownFromJson(type, json, path, issues);
      if (special !== NOT_SPECIAL) return special;
    }
    if (!isObject(json)) {
      issues.push({ path: path || '.', message: `expected an object for ${name.slice(1)}` });
      return undefined;
    }
    const out: Plain = {};
    const fields = fieldsOf(type);
    const oneofSeen = new Map<string, string>();
    for (const [key, value] of Object.entries(json)) {
      const at = path === '' ? key : `${path}.${key}`;
      const field = fields.get(key);
      if (field === undefined) {
        issues.push({ path: at, message: `unknown field '${key}' in ${name.slice(1)}` });
        continue;
      }
      // null means "the default" for every field type except google.protobuf.Value (spec, JSON Mapping).
      if (value === null && field.resolvedType?.fullName !== `${WKT}Value`) continue;
      const oneof = field.partOf;
      if (oneof !== null && !oneof.name.startsWith('_')) {
        const other = oneofSeen.get(oneof.name);
        if (other !== undefined) {
          issues.push({ path: at, message: `'${key}' and '${other}' are in the same oneof '${oneof.name}'` });
          continue;
        }
        oneofSeen.set(oneof.name, key);
      }
      if (out[field.name] !== undefined) {
        issues.push({ path: at, message: `field '${field.name}' given twice (as '${key}')` });
        continue;
      }
      const converted = fieldFromJson(field, value, at, issues);
      if (converted !== undefined) out[field.name] = converted;
    }
    return out;
  }

  function fieldFromJson(field: protobuf.Field, value: Json, path: string, issues: ConfigIssue[]): unknown {
    if (field.map) {
      if (!isObject(value)) {
        issues.push({ path, message: 'expected an object (map)' });
        return undefined;
      }
      const out: Plain = {};
      for (const [k, v] of Object.entries(value)) {
        const key = mapKeyFromJson((field as unknown as protobuf.MapField).keyType, k);
        if (key === undefined) {
          issues.push({ path: `${path}[${JSON.stringify(k)}]`, message: 'invalid map key' });
          continue;
        }
        const converted = singleFromJson(field, v, `${path}[${JSON.stringify(k)}]`, issues);
        if (converted !== undefined) out[key] = converted;
      }
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        issues.push({ path, message: 'expected an array' });
        return undefined;
      }
      const out: unknown[] = [];
      value.forEach((v, i) => {
        const converted = singleFromJson(field, v, `${path}[${i}]`, issues);
        if (converted !== undefined) out.push(converted);
      });
      return out;
    }
    return singleFromJson(field, value, path, issues);
  }

  function singleFromJson(field: protobuf.Field, value: Json, path: string, issues: ConfigIssue[]): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return messageFromJson(resolved, value, path, issues);
    if (resolved instanceof protobuf.Enum) return enumFromJson(resolved, value, path, issues);
    const result = scalarFromJson(field.type, value);
    if (typeof result === 'string' && result.startsWith('!')) {
      issues.push({ path, message: result.slice(1) });
      return undefined;
    }
    return result;
  }

  function enumFromJson(e: protobuf.Enum, value: Json, path: string, issues: ConfigIssue[]): unknown {
    if (e.fullName === `${WKT}NullValue`) return 0;
    if (typeof value === 'string') {
      const n = e.values[value];
      if (n !== undefined) return n;
      issues.push({
        path,
        message: `unknown ${e.name} value '${value}' (one of ${Object.keys(e.values).join(', ')})`,
      });
      return undefined;
    }
    if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2147483647) return value;
    issues.push({ path, message: `expected a ${e.name} name` });
    return undefined;
  }

  // ---- well-known types, JSON side -------------------------------------------------------------

  function wellKnownFromJson(type: protobuf.Type, json: Json, path: string, issues: ConfigIssue[]): unknown {
    const name = type.fullName;
    const fail = (message: string): undefined => {
      issues.push({ path: path || '.', message });
      return undefined;
    };
    const wrapped = WRAPPERS[name];
    if (wrapped !== undefined) {
      const v = scalarFromJson(wrapped, json);
      return typeof v === 'string' && v.startsWith('!') ? fail(v.slice(1)) : { value: v };
    }
    switch (name) {
      case `${WKT}Any`:
        return anyFromJson(json, path, issues);
      case `${WKT}Duration`:
      case `${WKT}Timestamp`: {
        if (typeof json !== 'string') return fail(`expected a ${type.name} string`);
        const parsed = name === `${WKT}Duration` ? parseDuration(json) : parseTimestamp(json);
        return parsed.ok ? parsed.value : fail(parsed.error);
      }
      case `${WKT}FieldMask`:
        return typeof json === 'string'
          ? { paths: parseFieldMask(json) }
          : fail('expected a FieldMask string');
      case `${WKT}Struct`:
        return isObject(json) ? structFromJson(json, path, issues) : fail('expected an object (Struct)');
      case `${WKT}ListValue`:
        return Array.isArray(json) ? listFromJson(json, path, issues) : fail('expected an array (ListValue)');
      case `${WKT}Value`:
        return valueFromJson(json, path, issues);
      default:
        return NOT_SPECIAL;
    }
  }

  /**
   * google.protobuf.Value's field names as loaded: protobufjs's bundled well-known types spell
   * them lowerCamel (numberValue) while .proto files loaded with keepCase would be snake_case.
   */
  let valueNames: Record<'null' | 'number' | 'string' | 'bool' | 'struct' | 'list', string> | undefined;
  function valueField(kind: 'null' | 'number' | 'string' | 'bool' | 'struct' | 'list'): string {
    if (valueNames === undefined) {
      const fields = fieldsOf(protos.lookupType(`${WKT}Value`));
      const nameOf = (snake: string): string =>
        (fields.get(snake) ?? fields.get(lowerCamel(snake)))?.name ?? snake;
      valueNames = {
        null: nameOf('null_value'),
        number: nameOf('number_value'),
        string: nameOf('string_value'),
        bool: nameOf('bool_value'),
        struct: nameOf('struct_value'),
        list: nameOf('list_value'),
      };
    }
    return valueNames[kind];
  }

  function valueFromJson(json: Json, path: string, issues: ConfigIssue[]): Plain | undefined {
    if (json === null) return { [valueField('null')]: 0 };
    if (typeof json === 'boolean') return { [valueField('bool')]: json };
    if (typeof json === 'string') return { [valueField('string')]: json };
    if (typeof json === 'number') {
      if (Number.isFinite(json)) return { [valueField('number')]: json };
      issues.push({ path, message: 'a Value number must be finite' });
      return undefined;
    }
    if (Array.isArray(json)) return { [valueField('list')]: listFromJson(json, path, issues) };
    return { [valueField('struct')]: structFromJson(json, path, issues) };
  }

  function structFromJson(json: JsonObject, path: string, issues: ConfigIssue[]): Plain {
    const fields: Plain = {};
    for (const [k, v] of Object.entries(json)) {
      fields[k] = valueFromJson(v, path === '' ? k : `${path}.${k}`, issues);
    }
    return { fields };
  }

  function listFromJson(json: Json[], path: string, issues: ConfigIssue[]): Plain {
    return { values: json.map((v, i) => valueFromJson(v, `${path}[${i}]`, issues)) };
  }

  function anyFromJson(json: Json, path: string, issues: ConfigIssue[]): AnyMessage | undefined {
    const at = path || '.';
    if (!isObject(json) || typeof json['@type'] !== 'string') {
      issues.push({ path: at, message: 'an Any needs an "@type" naming its message type' });
      return undefined;
    }
    const typeUrl = json['@type'];
    const inner = protos.findType(typeUrl);
    if (inner === undefined) {
      issues.push({ path: `${path === '' ? '' : `${path}.`}@type`, message: `unknown type '${typeUrl}'` });
      return undefined;
    }
    // A well-known type with a non-object JSON form is carried in "value" (spec, Any).
    let body: Json;
    if (hasSpecialJson(inner.fullName)) {
      body = json.value ?? null;
    } else {
      const { '@type': _drop, ...rest } = json;
      body = rest;
    }
    const before = issues.length;
    const plain = messageFromJson(inner, body, path, issues);
    if (issues.length !== before || plain === undefined) return undefined;
    return { type_url: typeUrl, value: inner.encode(inner.fromObject(plain as Plain)).finish() };
  }

  // ---- protobufjs object -> JSON ------------------------------------------------------------------

  function messageToJsonAt(type: protobuf.Type, obj: Plain, path: string): Json {
    const name = type.fullName;
    if (name.startsWith(WKT)) {
      const special = wellKnownToJson(type, obj, path);
      if (special !== NOT_SPECIAL) return special as Json;
    }
    const out: JsonObject = {};
    for (const field of type.fieldsArray) {
      const value = obj[field.name];
      if (value === undefined || value === null) continue;
      const at = path === '' ? field.name : `${path}.${field.name}`;
      if (field.map) {
        const m: JsonObject = {};
        for (const [k, v] of Object.entries(value as Plain)) m[k] = singleToJson(field, v, `${at}[${k}]`);
        out[field.name] = m;
      } else if (field.repeated) {
        out[field.name] = (value as unknown[]).map((v, i) => singleToJson(field, v, `${at}[${i}]`));
      } else {
        out[field.name] = singleToJson(field, value, at);
      }
    }
    return out;
  }

  function singleToJson(field: protobuf.Field, value: unknown, path: string): Json {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return messageToJsonAt(resolved, value as Plain, path);
    if (resolved instanceof protobuf.Enum) {
      if (resolved.fullName === `${WKT}NullValue`) return null;
      // Unknown numbers stay numbers (proto3 enums are open).
      return resolved.valuesById[value as number] ?? (value as number);
    }
    return scalarToJson(field.type, value);
  }

  function wellKnownToJson(type: protobuf.Type, obj: Plain, path: string): unknown {
    const name = type.fullName;
    const wrapped = WRAPPERS[name];
    if (wrapped !== undefined) return scalarToJson(wrapped, obj.value ?? scalarDefault(wrapped));
    switch (name) {
      case `${WKT}Any`:
        return anyToJson(obj as unknown as AnyMessage, path);
      case `${WKT}Duration`:
        return formatDuration(secondsNanos(obj));
      case `${WKT}Timestamp`: {
        const t = secondsNanos(obj);
        if (!(Math.abs(t.seconds) <= 253_402_300_799)) {
          throw new ConfigError('decode', [{ path: path || '.', message: 'timestamp out of range' }]);
        }
        return formatTimestamp(t);
      }
      case `${WKT}FieldMask`:
        return formatFieldMask((obj.paths as string[] | undefined) ?? []);
      case `${WKT}Struct`:
        return structToJson(obj);
      case `${WKT}ListValue`:
        return ((obj.values as Plain[] | undefined) ?? []).map(valueToJson);
      case `${WKT}Value`:
        return valueToJson(obj);
      default:
        return NOT_SPECIAL;
    }
  }

  function valueToJson(v: Plain): Json {
    const number = v[valueField('number')];
    if (number !== undefined) return number as number;
    const text = v[valueField('string')];
    if (text !== undefined) return text as string;
    const bool = v[valueField('bool')];
    if (bool !== undefined) return bool as boolean;
    const struct = v[valueField('struct')];
    if (struct !== undefined) return structToJson(struct as Plain);
    const list = v[valueField('list')];
    if (list !== undefined) return ((list as Plain).values as Plain[] | undefined)?.map(valueToJson) ?? [];
    return null;
  }

  function structToJson(s: Plain): JsonObject {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries((s.fields as Record<string, Plain> | undefined) ?? {}))
      out[k] = valueToJson(v);
    return out;
  }

  function anyToJson(any: AnyMessage, path: string): JsonObject {
    const typeUrl = any.type_url ?? '';
    const inner = protos.findType(typeUrl);
    if (inner === undefined) {
      throw new ConfigError('decode', [{ path: path || '.', message: `unknown Any type '${typeUrl}'` }]);
    }
    const obj = decodeToObject(inner, any.value ?? new Uint8Array(0), path);
    const body = messageToJsonAt(inner, obj, path);
    if (hasSpecialJson(inner.fullName)) return { '@type': typeUrl, value: body };
    return { '@type': typeUrl, ...(body as JsonObject) };
  }

  function decodeToObject(type: protobuf.Type, bytes: Uint8Array, path: string): Plain {
    try {
      return type.toObject(type.decode(bytes), TO_OBJECT) as Plain;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ConfigError('decode', [
        { path: path || '.', message: `invalid ${type.fullName.slice(1)} bytes: ${reason}` },
      ]);
    }
  }

  function plainFor(type: protobuf.Type, json: Json): Plain {
    const issues: ConfigIssue[] = [];
    const plain = messageFromJson(type, json, '', issues);
    if (issues.length > 0 || plain === undefined) throw new ConfigError(type.fullName.slice(1), issues);
    return plain as Plain;
  }

  const codec: JsonCodec = {
    encode(typeName, json) {
      const type = protos.lookupType(typeName);
      return type.encode(type.fromObject(plainFor(type, json))).finish();
    },
    decode(typeName, bytes) {
      const type = protos.lookupType(typeName);
      return messageToJsonAt(type, decodeToObject(type, bytes, ''), '') as JsonObject;
    },
    toAny(typeUrl, json) {
      const type = protos.lookupType(typeUrl);
      let body = json;
      if (isObject(json) && '@type' in json) {
        const { '@type': given, ...rest } = json;
        if (given !== typeUrl) {
          throw new ConfigError(type.fullName.slice(1), [
            { path: '@type', message: `'${String(given)}' does not match the expected type '${typeUrl}'` },
          ]);
        }
        body = rest;
      }
      return { type_url: typeUrl, value: codec.encode(typeUrl, body) };
    },
    fromAny(any) {
      return anyToJson(any, '');
    },
    messageToJson(typeName, message) {
      const type = protos.lookupType(typeName);
      const obj = message instanceof protobuf.Message ? type.toObject(message, TO_OBJECT) : message;
      return messageToJsonAt(type, obj as Plain, '') as JsonObject;
    },
    jsonToMessage(typeName, json) {
      const type = protos.lookupType(typeName);
      return type.fromObject(plainFor(type, json));
    },
  };
  return codec;
}

/** Marks "not a well-known type with a special mapping": fall through to the generic message rules. */
const NOT_SPECIAL = Symbol('not-special');

/** Well-known types whose JSON is not a plain object of their fields; inside an Any they go in "value". */
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  ...['Any', 'Duration', 'Timestamp', 'FieldMask', 'Struct', 'Value', 'ListValue'].map((n) => `${WKT}${n}`),
]);

function hasSpecialJson(fullName: string): boolean {
  return SPECIAL_JSON.has(fullName);
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function secondsNanos(obj: Plain): SecondsNanos {
  return { seconds: Number(obj.seconds ?? 0), nanos: Number(obj.nanos ?? 0) };
}

function scalarDefault(type: string): unknown {
  if (type === 'bool') return false;
  if (type === 'string') return '';
  if (type === 'bytes') return new Uint8Array(0);
  return INT64_TYPES.has(type) ? '0' : 0;
}

/** Converts one JSON scalar to what protobufjs's fromObject takes; an error is a string starting with '!'. */
function scalarFromJson(type: string, value: Json): unknown {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : '!expected a string';
    case 'bool':
      return typeof value === 'boolean' ? value : '!expected true or false';
    case 'bytes': {
      if (typeof value !== 'string') return '!expected a base64 string';
      const parsed = parseBase64(value);
      return parsed.ok ? parsed.value : `!${parsed.error}`;
    }
    case 'double':
    case 'float': {
      if (typeof value === 'number') return value;
      if (value === 'NaN') return Number.NaN;
      if (value === 'Infinity') return Number.POSITIVE_INFINITY;
      if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      return Number.isNaN(n) ? '!expected a number' : n;
    }
    default:
      return integerFromJson(type, value);
  }
}

/** Integers may be JSON numbers or strings (exponent notation too), but must be whole and in range. */
function integerFromJson(type: string, value: Json): unknown {
  if (typeof value !== 'number' && typeof value !== 'string') return `!expected an integer (${type})`;
  if (INT64_TYPES.has(type)) {
    let big: bigint;
    try {
      const text =
        typeof value === 'number' ? (Number.isInteger(value) ? BigInt(value) : null) : toBigInt(value);
      if (text === null) return `!expected an integer (${type})`;
      big = text;
    } catch {
      return `!expected an integer (${type})`;
    }
    const unsigned = type === 'uint64' || type === 'fixed64';
    const min = unsigned ? 0n : -(2n ** 63n);
    const max = unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n;
    if (big < min || big > max) return `!${value} is out of range for ${type}`;
    return big.toString();
  }
  const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(n)) return `!expected an integer (${type})`;
  const [min, max] = INT32_RANGE[type] ?? [-2147483648, 4294967295];
  if (n < min || n > max) return `!${value} is out of range for ${type}`;
  return n;
}

function toBigInt(text: string): bigint | null {
  if (/^-?\d+$/.test(text.trim())) return BigInt(text.trim());
  const n = Number(text);
  return Number.isSafeInteger(n) ? BigInt(n) : null;
}

function mapKeyFromJson(keyType: string, key: string): string | undefined {
  if (keyType === 'string') return key;
  if (keyType === 'bool') return key === 'true' || key === 'false' ? key : undefined;
  const converted = integerFromJson(keyType, key);
  return typeof converted === 'string' && converted.startsWith('!') ? undefined : String(converted);
}

/** int64 kinds as decimal strings, non-finite floats as "NaN"/"Infinity", bytes as base64 (spec). */
function scalarToJson(type: string, value: unknown): Json {
  if (type === 'bytes') return formatBase64(value as Uint8Array);
  if (INT64_TYPES.has(type)) return String(value);
  if ((type === 'double' || type === 'float') && typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return value as Json;
}
