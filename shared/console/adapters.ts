// The USB-UART adapters people wire to a Pi's GPIO 14/15, told apart by their USB vendor and product IDs, and the
// label a port list shows for each.

interface KnownChip {
  vendorId: string;
  /** Undefined: every product of the vendor. */
  productIds?: string[];
  chip: string;
}

const KNOWN_CHIPS: KnownChip[] = [
  { vendorId: '0403', productIds: ['6001'], chip: 'FTDI FT232R' },
  { vendorId: '0403', productIds: ['6010'], chip: 'FTDI FT2232' },
  { vendorId: '0403', productIds: ['6011'], chip: 'FTDI FT4232' },
  { vendorId: '0403', productIds: ['6014'], chip: 'FTDI FT232H' },
  { vendorId: '0403', productIds: ['6015'], chip: 'FTDI FT231X' },
  { vendorId: '0403', chip: 'FTDI' },
  { vendorId: '10c4', productIds: ['ea60', 'ea70', 'ea71'], chip: 'Silicon Labs CP210x' },
  { vendorId: '1a86', productIds: ['7523', '5523'], chip: 'WCH CH340' },
  { vendorId: '1a86', productIds: ['55d4', '55d3'], chip: 'WCH CH9102' },
  { vendorId: '067b', productIds: ['2303', '23a3', '23c3', '23d3'], chip: 'Prolific PL2303' },
  { vendorId: '2e8a', chip: 'Raspberry Pi Debug Probe / Pico' },
];

/** The chip family of a USB serial adapter, from its vendor and product IDs (hex, any case); undefined when unknown. */
export function adapterChip(vendorId: string | undefined, productId: string | undefined): string | undefined {
  if (!vendorId) return undefined;
  const vendor = vendorId.toLowerCase();
  const product = productId?.toLowerCase();
  return KNOWN_CHIPS.find(
    (known) => known.vendorId === vendor && (!known.productIds || (product !== undefined && known.productIds.includes(product))),
  )?.chip;
}

export interface PortFacts {
  path: string;
  chip?: string;
  manufacturer?: string;
  product?: string;
}

/** "FTDI FT232R USB UART (ttyUSB0)": the product name when the adapter gives one, else the chip, else the maker. */
export function portLabel(facts: PortFacts): string {
  const device = facts.path.split(/[\\/]/).pop() ?? facts.path;
  const name = facts.product ?? facts.chip ?? facts.manufacturer;
  if (!name) return device;
  const maker =
    facts.manufacturer && !name.toLowerCase().includes(facts.manufacturer.toLowerCase().split(/\s/)[0]!) ? `${facts.manufacturer} ` : '';
  return `${maker}${name} (${device})`;
}
