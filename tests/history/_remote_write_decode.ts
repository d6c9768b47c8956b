/**
 * A remote write 1.0 request decoder for the tests, written with
 * `@bufbuild/protobuf`'s reader (independent of weir's hand-written
 * encoder): a WriteRequest's series with each sample's value bits as they
 * arrived, and a request body (snappy, then protobuf) at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import snappy from "snappyjs";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export interface DecodedSample {
  /** The value's 64 bits as they arrived. */
  bits: bigint;
  value: number;
  t: number;
}

export interface DecodedSeries {
  labels: [string, string][];
  samples: DecodedSample[];
}

/** Reads a message's fields, failing on any field the schema does not have. */
function fields(
  bytes: Uint8Array,
  read: (r: BinaryReader, field: number, wire: WireType) => void,
): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    read(r, field, wire);
  }
  assert.equal(r.pos, r.len);
}

/** Decodes a remote write 1.0 WriteRequest with @bufbuild/protobuf's reader. */
export function decodeWriteRequest(bytes: Uint8Array): DecodedSeries[] {
  const out: DecodedSeries[] = [];
  fields(bytes, (r, field, wire) => {
    assert.deepEqual([field, wire], [1, WireType.LengthDelimited]);
    const series: DecodedSeries = { labels: [], samples: [] };
    fields(r.bytes(), (r, field, wire) => {
      assert.equal(wire, WireType.LengthDelimited);
      if (field === 1) {
        let name: string | undefined;
        let value: string | undefined;
        fields(r.bytes(), (r, field, wire) => {
          assert.equal(wire, WireType.LengthDelimited);
          if (field === 1) name = r.string(true);
          else if (field === 2) value = r.string(true);
          else assert.fail(`Label field ${field}`);
        });
        assert.ok(name !== undefined && value !== undefined);
        series.labels.push([name, value]);
      } else if (field === 2) {
        const sample: DecodedSample = { bits: 0n, value: 0, t: 0 };
        fields(r.bytes(), (r, field, wire) => {
          if (field === 1) {
            assert.equal(wire, WireType.Bit64);
            const raw = r.skip(WireType.Bit64);
            const view = new DataView(raw.buffer, raw.byteOffset, 8);
            sample.bits = view.getBigUint64(0, true);
            sample.value = view.getFloat64(0, true);
          } else if (field === 2) {
            assert.equal(wire, WireType.Varint);
            sample.t = Number(BigInt(r.int64()));
          } else assert.fail(`Sample field ${field}`);
        });
        series.samples.push(sample);
      } else assert.fail(`TimeSeries field ${field}`);
    });
    out.push(series);
  });
  return out;
}

/** Decodes a request body: snappy block format, then a WriteRequest. */
export function decodeBody(body: Uint8Array): DecodedSeries[] {
  return decodeWriteRequest(snappy.uncompress(body));
}
