import {
  BadRequestException,
  Body,
  Controller,
  Get,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { OrderEntity } from './order.entity.js';
import { ListOrdersQuery, OrderDto, OrderPageDto, PlaceOrderDto } from './orders.dto.js';
import { OrdersService } from './orders.service.js';

function toDto(order: OrderEntity): OrderDto {
  return { ...order, createdAt: new Date(order.createdAt).toISOString() };
}

/** Orders API (auth and scopes arrive with the security lib). */
@ApiTags('orders')
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiCreatedResponse({ type: OrderDto })
  @ApiBadRequestResponse({ description: 'Invalid order (problem+json with one entry per field).' })
  async place(@Body() body: PlaceOrderDto): Promise<OrderDto> {
    return toDto(await this.orders.place(body));
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderDto })
  @ApiNotFoundResponse({ description: 'No such order.' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<OrderDto> {
    const order = await this.orders.get(id);
    if (!order) throw new NotFoundException(`Order ${id} does not exist`);
    return toDto(order);
  }

  @Get()
  @ApiOkResponse({ type: OrderPageDto })
  async list(@Query() query: ListOrdersQuery): Promise<OrderPageDto> {
    try {
      const page = await this.orders.list(query.cursor, query.limit);
      return {
        items: page.items.map(toDto),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
