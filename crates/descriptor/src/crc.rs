//! CRC-16/CCITT-FALSE, the checksum of both descriptor formats.
//!
//! Parameters as catalogued in Greg Cook's "Catalogue of parametrised CRC algorithms"
//! (CRC-16/IBM-3740, alias CRC-16/CCITT-FALSE): width 16, poly 0x1021, init 0xFFFF, refin false,
//! refout false, xorout 0x0000, check 0x29B1 (the CRC of the ASCII bytes "123456789").

/// The generator polynomial x^16 + x^12 + x^5 + 1, MSB-first.
const POLY: u16 = 0x1021;
/// The initial register value.
const INIT: u16 = 0xFFFF;

/// Slicing tables: `TABLES[k][b]` is the CRC (from a zero register) of byte `b` followed by `k`
/// zero bytes. `TABLES[0]` is the classic byte-at-a-time table, built from the bitwise
/// definition; each further table extends the previous one by one zero byte. The general path
/// uses the first 8 (slicing-by-8); the v2 path uses all 22, one per covered byte (11 KiB).
const TABLES: [[u16; 256]; 22] = {
    let mut t = [[0u16; 256]; 22];
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
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 22 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
};

/// The CRC-16/CCITT-FALSE of `data`.
pub const fn crc16(data: &[u8]) -> u16 {
    crc16_update(INIT, data)
}

/// Continues a CRC-16/CCITT-FALSE computation over `data` from register value `crc`.
///
/// Blocks of 2 to 8 bytes are folded in one step: the register is xored into the block's first
/// two bytes, and the CRC of the block is the xor of each byte's table entry for the number of
/// bytes that follow it (the CRC is linear over GF(2)). This cuts the serial dependency chain
/// eightfold; a v2 descriptor's 22 covered bytes take three steps.
pub(crate) const fn crc16_update(mut crc: u16, data: &[u8]) -> u16 {
    let mut i = 0;
    while i < data.len() {
        let n = if data.len() - i >= 8 {
            8
        } else {
            data.len() - i
        };
        if n == 1 {
            let idx = ((crc >> 8) as u8 ^ data[i]) as usize;
            crc = (crc << 8) ^ TABLES[0][idx];
        } else {
            let mut acc = TABLES[n - 1][(data[i] ^ (crc >> 8) as u8) as usize]
                ^ TABLES[n - 2][(data[i + 1] ^ crc as u8) as usize];
            let mut j = 2;
            while j < n {
                acc ^= TABLES[n - 1 - j][data[i + j] as usize];
                j += 1;
            }
            crc = acc;
        }
        i += n;
    }
    crc
}

/// The CRC-16/CCITT-FALSE of bytes 0..22 of a v2 descriptor (the bytes its CRC covers; the last
/// two are ignored), for the decoder's hot path: slicing-by-22, so all 22 table lookups are
/// independent and there is no serial chain at all. Equal to `crc16(&b[..22])` (tested).
pub(crate) fn crc16_v2(b: &[u8; 24]) -> u16 {
    let t = &TABLES;
    // The initial register is xored into the first two message bytes.
    let [i0, i1] = INIT.to_be_bytes();
    let mut crc = t[21][usize::from(b[0] ^ i0)] ^ t[20][usize::from(b[1] ^ i1)];
    let mut k = 2;
    while k < 22 {
        crc ^= t[21 - k][usize::from(b[k])];
        k += 1;
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
        for start in 0..data.len() - 24 {
            let block: &[u8; 24] = data[start..start + 24].try_into().unwrap();
            assert_eq!(crc16_v2(block), crc16_bitwise(&block[..22]));
        }
    }
}
