//! CRC-16/CCITT-FALSE, the checksum of both descriptor formats.
//!
//! Parameters as catalogued in Greg Cook's "Catalogue of parametrised CRC algorithms"
//! (CRC-16/IBM-3740, alias CRC-16/CCITT-FALSE): width 16, poly 0x1021, init 0xFFFF, refin false,
//! refout false, xorout 0x0000, check 0x29B1 (the CRC of the ASCII bytes "123456789").

/// The generator polynomial x^16 + x^12 + x^5 + 1, MSB-first.
const POLY: u16 = 0x1021;
/// The initial register value.
const INIT: u16 = 0xFFFF;

/// The byte-at-a-time table, built at compile time from the bitwise definition.
const TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// The CRC-16/CCITT-FALSE of `data`.
pub const fn crc16(data: &[u8]) -> u16 {
    crc16_update(INIT, data)
}

/// Continues a CRC-16/CCITT-FALSE computation over `data` from register value `crc`.
pub(crate) const fn crc16_update(mut crc: u16, data: &[u8]) -> u16 {
    let mut i = 0;
    while i < data.len() {
        let idx = ((crc >> 8) as u8 ^ data[i]) as usize;
        crc = (crc << 8) ^ TABLE[idx];
        i += 1;
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bitwise definition, to check the table against.
    fn crc16_bitwise(data: &[u8]) -> u16 {
        let mut crc = INIT;
        for &b in data {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ POLY
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn catalogued_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(crc16_bitwise(b"123456789"), 0x29B1);
        assert_eq!(crc16(b""), 0xFFFF);
    }

    #[test]
    fn table_matches_bitwise_definition() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..data.len() {
            assert_eq!(crc16(&data[..n]), crc16_bitwise(&data[..n]));
        }
        assert_eq!(crc16_update(crc16(b"12345"), b"6789"), 0x29B1);
    }
}
