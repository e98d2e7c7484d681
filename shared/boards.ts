// The boards the boot chain targets, as data: every address and name the generator uses comes from here.

export type BoardId = 'rpi4' | 'qemu-virt';
export type UartChoice = 'mini' | 'pl011';

export interface BoardUart {
  /** What Xen's `dtuart=` gets: the device-tree path, which survives trees that swap the serial0/serial1 aliases. */
  dtuart: string;
  /** The alias upstream Linux's tree gives it (older profiles and ImageBuilder configs name it so). */
  alias?: string;
  /** The node in the device tree. */
  path: string;
  label: string;
  /** config.txt needs `dtoverlay=disable-bt` for this UART. */
  needsDisableBt: boolean;
}

export interface Board {
  id: BoardId;
  name: string;
  /** Start of RAM (ImageBuilder's MEMORY_START). */
  ramBase: number;
  /** Default end of the RAM the boot files may use (MEMORY_END). */
  memoryEnd: number;
  /** U-Boot's scriptaddr: where distro boot loads stage 1 (boot.scr). */
  scriptAddress: number;
  /** Where stage 1 loads stage 2 (boot2.scr); files follow 2 MiB above it. */
  stage2Address: number;
  /** Console UARTs; the key is the user's choice. */
  uarts: Partial<Record<UartChoice, BoardUart>>;
  defaultUart: UartChoice;
  /** File name of the device tree the board boots with. */
  deviceTree: string;
  deviceTreeNote: string;
  /** U-Boot command that loads from the boot partition. */
  sdLoadCommand: string;
  /** Dom0's root partition when the root filesystem is on the card's second partition, as Dom0's Linux names it. */
  rootPartition: string;
  /** The TFTP server address as U-Boot sees it, when the board needs a fixed one. */
  defaultServerIp?: string;
  cpus: number;
  /** RAM sizes sold (MiB), for the memory-end picker. */
  ramSizesMiB: number[];
  /** For each size sold: the RAM U-Boot declares to Xen (MiB), all banks together, after what the firmware keeps. */
  declaredRamMiB: Record<number, number>;
  /** The size a profile that names none is checked against. */
  defaultRamMiB: number;
  /** Whether the Raspberry Pi firmware reads config.txt before U-Boot. */
  usesConfigTxt: boolean;
  /** Where Debian's u-boot packages put this board's U-Boot. */
  ubootBinary: string;
  /** Dom0 needs at least this Linux (major, minor). */
  minimumDom0Kernel: [number, number];
}

export const boards: Record<BoardId, Board> = {
  rpi4: {
    id: 'rpi4',
    name: 'Raspberry Pi 4 Model B',
    ramBase: 0x0,
    // The first 1 GiB, minus what the firmware keeps for the GPU at its top.
    memoryEnd: 0x3c000000,
    scriptAddress: 0x2400000,
    stage2Address: 0xc00000,
    uarts: {
      // By path: the Raspberry Pi firmware swaps serial0/serial1 in its own trees, so an alias can name the other UART.
      mini: {
        dtuart: '/soc/serial@7e215040',
        alias: 'serial1',
        path: '/soc/serial@7e215040',
        label: 'mini UART (GPIO 14/15, the default)',
        needsDisableBt: false,
      },
      pl011: {
        dtuart: '/soc/serial@7e201000',
        alias: 'serial0',
        path: '/soc/serial@7e201000',
        label: 'PL011 UART (Bluetooth moved off with disable-bt)',
        needsDisableBt: true,
      },
    },
    defaultUart: 'mini',
    deviceTree: 'bcm2711-rpi-4-b.dtb',
    deviceTreeNote: "Upstream Linux's broadcom/bcm2711-rpi-4-b.dtb (Debian: /usr/lib/linux-image-<abi>/broadcom/).",
    // U-Boot numbers the card by the firmware's tree: upstream Linux's has no mmc aliases, so the SD slot (emmc2) is
    // mmc 1 after the Wi-Fi's SDIO host, while Raspberry Pi OS's tree makes it mmc 0. Distro boot sets devnum to the
    // device it found boot.scr on, so the scripts load from that one.
    sdLoadCommand: 'load mmc ${devnum}:1',
    // The same in Linux with upstream's tree (what Dom0 boots with): the SD slot's host registers after the Wi-Fi's.
    rootPartition: '/dev/mmcblk1p2',
    cpus: 4,
    ramSizesMiB: [1024, 2048, 4096, 8192],
    // The firmware's banks as U-Boot passes them on: 0..0x3c000000 (the GPU keeps the rest of the first GiB),
    // then 0x40000000 up to the end of RAM (4 GB: up to 0xfc000000, below the PCIe window).
    declaredRamMiB: { 1024: 960, 2048: 1984, 4096: 3968, 8192: 8128 },
    defaultRamMiB: 4096,
    usesConfigTxt: true,
    ubootBinary: '/usr/lib/u-boot/rpi_4/u-boot.bin',
    minimumDom0Kernel: [5, 9],
  },
  'qemu-virt': {
    id: 'qemu-virt',
    name: 'QEMU virt (arm64 emulator)',
    ramBase: 0x40000000,
    // -m 2048: RAM runs from 1 GiB to 3 GiB.
    memoryEnd: 0xc0000000,
    scriptAddress: 0x40200000,
    // ImageBuilder's own choice (RAM base + 2 MiB) is U-Boot's scriptaddr here, where stage 1 sits.
    stage2Address: 0x40c00000,
    uarts: {
      pl011: { dtuart: '/pl011@9000000', path: '/pl011@9000000', label: 'PL011 at 0x9000000 (no serial0 alias)', needsDisableBt: false },
    },
    defaultUart: 'pl011',
    deviceTree: 'virt.dtb',
    deviceTreeNote: 'Dumped from the same QEMU command line, -bios included (-machine ...,dumpdtb=virt.dtb), then `dtc -I dtb -O dtb`.',
    sdLoadCommand: 'load virtio 0:1',
    rootPartition: '/dev/vda2',
    defaultServerIp: '255.255.255.255',
    cpus: 2,
    ramSizesMiB: [2048],
    declaredRamMiB: { 2048: 2048 },
    defaultRamMiB: 2048,
    usesConfigTxt: false,
    ubootBinary: '/usr/lib/u-boot/qemu_arm64/u-boot.bin',
    minimumDom0Kernel: [5, 9],
  },
};

export const boardIds = Object.keys(boards) as BoardId[];

export function boardById(id: BoardId): Board {
  return boards[id];
}

/** The UART a console choice means on a board, falling back to the board's only/default one. */
export function consoleUart(board: Board, choice: UartChoice): BoardUart {
  return board.uarts[choice] ?? board.uarts[board.defaultUart]!;
}

/** What Xen keeps for itself (heap, frame table, its own image) before Dom0 and DomUs get theirs, in MiB. */
export const XEN_RESERVED_MIB = 96;

/** The RAM a profile's board declares to Xen, and the most its domains may ask for together (MiB). */
export function domainMemoryLimit(board: Board, ramMiB: number | undefined): { ramMiB: number; declaredMiB: number; limitMiB: number } {
  const size = ramMiB ?? board.defaultRamMiB;
  const declaredMiB = board.declaredRamMiB[size] ?? size;
  return { ramMiB: size, declaredMiB, limitMiB: Math.max(0, declaredMiB - XEN_RESERVED_MIB) };
}

/** "1 GB", "8 GB": how RAM sizes are sold. */
export function ramLabel(ramMiB: number): string {
  return ramMiB % 1024 === 0 ? `${ramMiB / 1024} GB` : `${ramMiB} MB`;
}
