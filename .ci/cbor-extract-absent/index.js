// cbor-x loads cbor-extract only to speed up string decoding and falls back to its own
// JavaScript decoder when loading fails, which is what this stand-in makes it do.
throw new Error('cbor-extract is not installed; cbor-x uses its JavaScript decoder');
