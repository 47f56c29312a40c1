import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { UnitOfWork } from '@infrastructure/persistence';
import { Scopes } from '@infrastructure/security';
import { OrderSummaryEntity } from './order-summary.entity.js';

/** A customer's order summary (read model, eventually consistent). */
export class OrderSummaryDto {
  @ApiProperty() customerId!: string;
  @ApiProperty() ordersCount!: number;
  @ApiProperty() totalCents!: number;
  @ApiProperty() lastOrderId!: string;
  @ApiProperty({ format: 'date-time' }) lastOrderAt!: string;
}

@ApiTags('orders')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or invalid bearer token (WWW-Authenticate says why).' })
@ApiForbiddenResponse({ description: 'The token lacks the orders:read scope.' })
@Controller('v1/customers')
export class CustomersController {
  constructor(private readonly uow: UnitOfWork) {}

  @Get(':customerId/order-summary')
  @Scopes('orders:read')
  @ApiOkResponse({ type: OrderSummaryDto })
  @ApiNotFoundResponse({ description: 'No order projected for this customer yet.' })
  async summary(@Param('customerId') customerId: string): Promise<OrderSummaryDto> {
    const row = await this.uow.manager
      .getRepository(OrderSummaryEntity)
      .findOneBy({ customerId: customerId.slice(0, 64) });
    if (!row) throw new NotFoundException(`No orders projected for customer ${customerId}`);
    return { ...row, lastOrderAt: new Date(row.lastOrderAt).toISOString() };
  }
}
