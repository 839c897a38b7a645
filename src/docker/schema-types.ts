import type { InspectedBodyKind } from './body-kinds.js';

// The shape of the generated Engine API body schema (src/docker/schema.ts, written by
// scripts/gen-schema.ts). It describes what Go's encoding/json does with each field of the Go
// struct dockerd decodes a body into, not the whole swagger: only the types decoding depends on.

/** A JSON string, number (float64), boolean, or any JSON value kept as parsed (free-form). */
export interface ScalarSchema {
  readonly t: 'string' | 'number' | 'boolean' | 'any';
}

/** A Go integer field: only integer literals (no fraction, no exponent) within int64/uint64. */
export interface IntegerSchema {
  readonly t: 'integer';
}

/** moby's strslice.StrSlice (Cmd, Entrypoint, Shell, CapAdd, CapDrop): a string or an array of strings. */
export interface StrSliceSchema {
  readonly t: 'strslice';
}

export interface ArraySchema {
  readonly t: 'array';
  readonly items: SchemaNode;
}

/** A Go map: keys are kept exactly as sent. */
export interface MapSchema {
  readonly t: 'map';
  readonly value: SchemaNode;
}

/** A Go struct: keys match field names case-insensitively (Go's folding); unknown keys are dropped. */
export interface StructSchema {
  readonly t: 'struct';
  /** Canonical field name ⇒ schema; embedded (allOf) structs are already flattened in. */
  readonly fields: Readonly<Record<string, SchemaNode>>;
}

export type SchemaNode =
  | ScalarSchema
  | IntegerSchema
  | StrSliceSchema
  | ArraySchema
  | MapSchema
  | StructSchema;

/** One root schema per inspected body kind: a struct, or an array for the plugin bodies. */
export type BodySchemas = Readonly<Record<InspectedBodyKind, StructSchema | ArraySchema>>;
